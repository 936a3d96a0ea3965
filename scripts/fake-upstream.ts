/**
 * The test suite's fake provider as a standalone process, for manual runs and the benchmark:
 * `bun scripts/fake-upstream.ts` prints `FAKE_UPSTREAM_URL=http://127.0.0.1:PORT` and serves until stopped.
 */
import { startFakeUpstream } from '../test/fake-upstream'

const upstream = await startFakeUpstream()
process.stdout.write(`FAKE_UPSTREAM_URL=${upstream.url}\n`)
const stop = async () => {
  await upstream.stop()
  process.exit(0)
}
process.once('SIGTERM', () => void stop())
process.once('SIGINT', () => void stop())
