// `npm start`: the seed experiments, scaled to finish in under a minute.
import { cpuHeavyDemo } from './cpu-heavy.js'
import { powerCalcDemo } from './power-calc.js'
import { urlLoaderDemo } from './url-loader.js'

await cpuHeavyDemo(1e8, 4)
console.log()
await urlLoaderDemo()
console.log()
await powerCalcDemo(0.2)
