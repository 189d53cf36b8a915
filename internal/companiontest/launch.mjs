// Starts Companion's standalone server the way its own bin/companion does,
// except that it listens on 127.0.0.1 only (bin/companion listens on every
// interface): a test never opens a port to the network.
//
// usage: node launch.mjs <dir of @uppy/companion> <port>
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'

const [root, port] = process.argv.slice(2)
const entry = pathToFileURL(join(root, 'lib', 'standalone', 'index.js')).href
const { default: standalone } = await import(entry)

const { app } = standalone()
const server = app.listen(Number(port), '127.0.0.1', () => {
  console.log(`companiontest: listening on 127.0.0.1:${port}`)
})
server.on('error', (err) => {
  console.error(`companiontest: ${err.message}`)
  process.exit(1)
})
// Companion schedules clean-up jobs that would keep the process alive after
// the server closes; the test is done with it, so leave at once.
process.on('SIGTERM', () => process.exit(0))
