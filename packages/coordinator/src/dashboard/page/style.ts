/** The dashboard's stylesheet (served as `/dashboard.css`): a light, quiet, dense layout. */
export const STYLE_CSS = String.raw`
:root {
  --bg: #f3f5f8;
  --card: #ffffff;
  --ink: #1f2933;
  --muted: #6b7785;
  --line: #e3e8ee;
  --accent: #4e79a7;
  --good: #2f9e44;
  --warn: #e8a317;
  --bad: #e03131;
  --mono: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
}
* { box-sizing: border-box; }
html, body { margin: 0; }
body {
  background: var(--bg);
  color: var(--ink);
  font: 13px/1.45 system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif;
  font-variant-numeric: tabular-nums;
}
[hidden] { display: none !important; }
code { font-family: var(--mono); font-size: 12px; background: #eef1f4; padding: 1px 4px; border-radius: 3px; }
.muted { color: var(--muted); font-weight: 400; }

.top {
  display: flex; align-items: center; gap: 20px; flex-wrap: wrap;
  padding: 10px 20px; background: #1f2933; color: #f5f7fa;
}
.top .muted { color: #9aa5b1; }
.brand { font-size: 16px; font-weight: 600; letter-spacing: 0.2px; display: flex; align-items: center; gap: 8px; }
.logo {
  width: 18px; height: 18px; border-radius: 4px;
  background: linear-gradient(135deg, #4e79a7 0 50%, #f28e2b 50% 75%, #59a14f 75%);
}
.conn { display: flex; align-items: center; gap: 6px; font-size: 12px; padding: 2px 10px; border-radius: 999px; background: rgba(255,255,255,0.08); }
.conn .dot { width: 8px; height: 8px; border-radius: 50%; background: #9aa5b1; }
.conn-live .dot { background: #51cf66; box-shadow: 0 0 0 3px rgba(81,207,102,0.25); }
.conn-reconnecting .dot, .conn-connecting .dot { background: var(--warn); }
.conn-closed .dot { background: var(--bad); }
.stats { display: flex; gap: 18px; flex-wrap: wrap; margin-left: auto; }
.stat { display: flex; flex-direction: column; align-items: flex-end; min-width: 44px; }
.stat-value { font-size: 16px; font-weight: 600; }
.stat-label { font-size: 11px; color: #9aa5b1; text-transform: uppercase; letter-spacing: 0.4px; }
.stat.bad .stat-value { color: #ff8787; }
.version { font-size: 12px; }

.banner { margin: 12px 20px 0; padding: 8px 12px; border-radius: 6px; background: #fff5f5; border: 1px solid #ffc9c9; }
.banner.warn { background: #fff9db; border-color: #ffe066; }

.grid {
  display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: 16px;
  padding: 16px 20px 28px; max-width: 1600px; margin: 0 auto;
}
.span-2 { grid-column: span 2; }
@media (max-width: 960px) {
  .grid { grid-template-columns: minmax(0, 1fr); }
  .span-2 { grid-column: auto; }
  .stats { margin-left: 0; }
}
.card {
  background: var(--card); border: 1px solid var(--line); border-radius: 8px;
  padding: 12px 16px 14px; min-width: 0;
}
.card-head { display: flex; align-items: baseline; justify-content: space-between; gap: 12px; margin-bottom: 8px; }
h2 { font-size: 14px; margin: 0; font-weight: 600; }
h2 .muted { font-size: 12px; margin-left: 6px; }
h3 { font-size: 12px; margin: 10px 0 2px; font-weight: 600; color: #3d4852; }
h3 .muted { font-weight: 400; }
.note { color: var(--muted); font-size: 12px; margin: 0; }
.empty { color: var(--muted); margin: 6px 0 0; }

.stream-wrap { position: relative; }
#stream { display: block; width: 100%; height: 120px; border-radius: 4px; }
.tip {
  position: absolute; pointer-events: none; background: #1f2933; color: #fff; font-size: 12px;
  padding: 4px 8px; border-radius: 4px; white-space: nowrap; z-index: 2;
}
.legend { display: flex; flex-wrap: wrap; gap: 4px 14px; margin-top: 8px; font-size: 12px; color: #3d4852; }
.legend-item { display: inline-flex; align-items: center; gap: 5px; max-width: 260px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; flex: none; }

.progress { display: flex; flex-direction: column; gap: 10px; }
.fn-head { display: flex; align-items: center; gap: 6px; margin-bottom: 3px; }
.fn-name { font-family: var(--mono); font-size: 12px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.fn-counts { margin-left: auto; color: var(--muted); font-size: 12px; white-space: nowrap; }
.bar { display: flex; height: 10px; background: #e9edf1; border-radius: 5px; overflow: hidden; }
.seg { display: block; height: 100%; transition: width 0.35s ease; }
.seg-running { opacity: 0.4; }

.charts .chart { min-height: 120px; }
h3 .now { float: right; font-weight: 600; color: var(--ink); }
.u-legend .u-series th { font-weight: 400; color: #3d4852; }
.uplot { font-family: inherit; }
.u-legend { font-size: 11px; text-align: left; margin-top: 2px; }
.u-legend .u-marker { width: 10px; height: 10px; }

.table-wrap { overflow-x: auto; }
table.workers { width: 100%; border-collapse: collapse; }
.workers th, .workers td { text-align: left; padding: 5px 10px; border-bottom: 1px solid var(--line); white-space: nowrap; }
.workers th { font-size: 11px; text-transform: uppercase; letter-spacing: 0.4px; color: var(--muted); font-weight: 600; }
.workers th.num, .workers td.col-procs, .workers td.col-running, .workers td.col-queued,
.workers td.col-done, .workers td.col-failed { text-align: right; }
.workers td.col-name { font-weight: 600; }
.workers tbody tr:hover { background: #f8fafc; }
.workers td.bad { color: var(--bad); font-weight: 600; }
.meter { display: inline-block; width: 54px; height: 6px; background: #e9edf1; border-radius: 3px; overflow: hidden; margin-right: 8px; vertical-align: middle; }
.meter-fill { display: block; height: 100%; width: 0; background: var(--accent); transition: width 0.35s ease; }
.meter.mem .meter-fill { background: #76b7b2; }
.membar { position: relative; display: inline-flex; width: 120px; height: 8px; background: #e9edf1; border-radius: 3px; overflow: hidden; margin-right: 8px; vertical-align: middle; }
.membar > span { display: block; height: 100%; transition: width 0.35s ease; }
.membar .mem-managed { background: #4e79a7; }
.membar .mem-unmanaged { background: #a0cbe8; }
.membar .mem-spilled { background: #9d9d9d; background-image: repeating-linear-gradient(45deg, transparent 0 2px, rgba(255,255,255,0.5) 2px 4px); }
.membar .mem-limit { position: absolute; top: 0; width: 2px; height: 100%; background: #333; margin-left: -1px; }
.membar.paused { box-shadow: 0 0 0 2px #f28e2b; }
.pill.state-paused { background: #fdebd3; color: #a35400; }
.pill { display: inline-block; padding: 1px 8px; border-radius: 999px; font-size: 11px; background: #eef1f4; color: #3d4852; }
.pill.state-running { background: #ebfbee; color: #2b8a3e; }
.pill.state-leaving { background: #fff9db; color: #a8730a; }
.pill.state-gone { background: #f1f3f5; color: #868e96; }

.errors { display: flex; flex-direction: column; gap: 6px; }
details.error { border: 1px solid #ffd8d8; border-left: 3px solid var(--bad); border-radius: 6px; background: #fffafa; }
details.error summary {
  cursor: pointer; padding: 6px 10px; display: flex; gap: 10px; align-items: baseline; flex-wrap: wrap;
  list-style-position: outside;
}
.err-time { color: var(--muted); font-size: 12px; }
.err-fn { font-family: var(--mono); font-size: 12px; }
.err-msg { color: #c92a2a; font-weight: 600; word-break: break-word; }
.err-worker { color: var(--muted); font-size: 12px; margin-left: auto; }
pre.stack {
  margin: 0; padding: 8px 12px 10px; font: 12px/1.5 var(--mono); color: #3d4852; white-space: pre-wrap;
  word-break: break-word; border-top: 1px solid #ffe3e3; max-height: 320px; overflow: auto;
}
`
