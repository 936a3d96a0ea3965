/**
 * `bun run build` → dist/tollgate, one self-contained executable.
 *
 * - libSQL loads its native addon with `require(\`@libsql/${target}\`)`, which the bundler cannot follow, so
 *   a compiled binary fails outside the project folder. The plugin below rewrites that one call into a static
 *   require of this platform's package, which makes Bun embed the `.node` file. If the rewrite stops
 *   applying (libSQL changed), the build fails instead of producing a binary that cannot start.
 * - Migrations are embedded by a Bun macro (src/db/migration-files.ts).
 * - The binary does not load a stray .env, bunfig.toml, tsconfig.json or package.json from where it runs.
 * - Only whitespace and syntax are minified: identifier minification breaks Elysia's handler analysis.
 */
import type { BunPlugin } from 'bun'
import { familySync, GLIBC } from 'detect-libc'
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'

const DYNAMIC_REQUIRE = 'return require(`@libsql/${target}`);'

function libsqlTarget(): string {
  const arch = process.arch === 'x64' ? 'x64' : process.arch
  if (process.platform === 'linux') return `linux-${arch}-${familySync() === GLIBC ? 'gnu' : 'musl'}`
  return `${process.platform}-${arch}`
}

let rewrites = 0
const embedLibsqlAddon: BunPlugin = {
  name: 'embed-libsql-addon',
  setup(build) {
    build.onLoad({ filter: /[\\/]node_modules[\\/]libsql[\\/]index\.js$/ }, async ({ path }) => {
      const source = await Bun.file(path).text()
      if (!source.includes(DYNAMIC_REQUIRE)) {
        throw new Error(`libsql/index.js no longer contains ${DYNAMIC_REQUIRE}; update scripts/build.ts`)
      }
      rewrites++
      return { contents: source.replace(DYNAMIC_REQUIRE, `return require("@libsql/${libsqlTarget()}");`), loader: 'js' }
    })
  },
}

// `bun scripts/build.ts --outfile PATH` builds elsewhere (the binary tests build into a temp folder).
const outfileFlag = process.argv.indexOf('--outfile')
const outfile = outfileFlag === -1 ? './dist/tollgate' : process.argv[outfileFlag + 1]
mkdirSync(dirname(outfile), { recursive: true })
const result = await Bun.build({
  entrypoints: ['./src/main.ts'],
  target: 'bun',
  minify: { whitespace: true, syntax: true, identifiers: false },
  sourcemap: 'none',
  plugins: [embedLibsqlAddon],
  compile: {
    outfile,
    autoloadDotenv: false,
    autoloadBunfig: false,
    autoloadTsconfig: false,
    autoloadPackageJson: false,
  },
})

if (!result.success) {
  for (const message of result.logs) console.error(message)
  process.exit(1)
}
if (rewrites !== 1) {
  console.error(`expected to rewrite libsql's native require once, rewrote it ${rewrites} times`)
  process.exit(1)
}
const size = Bun.file(outfile).size
console.log(`built ${outfile} (${(size / 1024 / 1024).toFixed(1)} MiB)`)
