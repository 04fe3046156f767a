/**
 * The dashboard page (served at `/`). Static: it holds no cluster data and no secret; the
 * module `dashboard.js` fills it from the event stream. All URLs are relative, so the page
 * also works behind a reverse proxy that mounts the coordinator under a path.
 */
export const INDEX_HTML = String.raw`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>clusterpool dashboard</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="vendor/uplot.min.css">
<link rel="stylesheet" href="dashboard.css">
<script src="vendor/uplot.iife.min.js" defer></script>
<script type="module" src="dashboard.js"></script>
</head>
<body>
<header class="top">
  <div class="brand"><span class="logo" aria-hidden="true"></span>clusterpool <span class="muted">dashboard</span></div>
  <div id="conn" class="conn conn-connecting"><span class="dot"></span><span id="conn-text">connecting…</span></div>
  <div class="stats">
    <div class="stat"><span class="stat-value" id="stat-workers">–</span><span class="stat-label">workers</span></div>
    <div class="stat"><span class="stat-value" id="stat-procs">–</span><span class="stat-label">procs</span></div>
    <div class="stat"><span class="stat-value" id="stat-rate">–</span><span class="stat-label">tasks/s</span></div>
    <div class="stat"><span class="stat-value" id="stat-queued">–</span><span class="stat-label">queued</span></div>
    <div class="stat"><span class="stat-value" id="stat-running">–</span><span class="stat-label">running</span></div>
    <div class="stat"><span class="stat-value" id="stat-finished">–</span><span class="stat-label">finished</span></div>
    <div class="stat"><span class="stat-value" id="stat-erred">–</span><span class="stat-label">erred</span></div>
    <div class="stat"><span class="stat-value" id="stat-submitted">–</span><span class="stat-label">submitted</span></div>
    <div class="stat"><span class="stat-value" id="stat-clients">–</span><span class="stat-label">clients</span></div>
  </div>
  <div class="version muted" id="version"></div>
</header>
<p id="login-hint" class="banner" hidden>Disconnected from the coordinator; retrying. If it restarted, open its URL with <code>?token=</code> again.</p>
<p id="no-worker" class="banner warn" hidden></p>
<main class="grid">
  <section class="card span-2" id="stream-panel">
    <div class="card-head">
      <h2>Task stream <span class="muted">last 60 s, a row per process</span></h2>
      <span class="note" id="stream-note"></span>
    </div>
    <div class="stream-wrap">
      <canvas id="stream" data-bars="0" data-received="0" data-drawn="0"></canvas>
      <div id="stream-tip" class="tip" hidden></div>
    </div>
    <div class="legend" id="stream-legend"></div>
  </section>
  <section class="card" id="progress-panel">
    <div class="card-head"><h2>Progress <span class="muted">per function</span></h2></div>
    <div id="progress" class="progress"></div>
    <p id="progress-empty" class="empty">No tasks yet.</p>
    <p id="progress-more" class="note" hidden></p>
  </section>
  <section class="card charts" id="charts-panel">
    <div class="card-head"><h2>Over time <span class="muted">last 5 min</span></h2></div>
    <h3>Throughput <span class="now" id="chart-throughput-now"></span></h3><div id="chart-throughput" class="chart"></div>
    <h3>Queue length <span class="now" id="chart-queue-now"></span></h3><div id="chart-queue" class="chart"></div>
    <h3>Occupancy <span class="muted">mean remaining work per process</span> <span class="now" id="chart-occupancy-now"></span></h3><div id="chart-occupancy" class="chart"></div>
  </section>
  <section class="card span-2" id="workers-panel">
    <div class="card-head"><h2>Workers</h2></div>
    <div class="table-wrap">
      <table class="workers">
        <thead><tr>
          <th>name</th><th>host</th><th class="num">procs</th><th class="num">running</th><th class="num">queued</th>
          <th class="num">done</th><th class="num">failed</th><th>cpu</th><th>memory</th><th>last heartbeat</th><th>state</th>
        </tr></thead>
        <tbody id="workers-body"></tbody>
      </table>
    </div>
    <p id="workers-empty" class="empty">No workers connected. Start one with <code>npx clusterpool worker ws://HOST:PORT</code>.</p>
  </section>
  <section class="card span-2" id="errors-panel">
    <div class="card-head"><h2>Recent errors <span class="muted" id="errors-total"></span></h2></div>
    <div id="errors" class="errors"></div>
    <p id="errors-empty" class="empty">No errors.</p>
  </section>
</main>
</body>
</html>
`
