/**
 * Builds dist/bundle/: the installed `cirt` bin (package.json "bin"), one ESM entry plus lazily
 * loaded chunks, from the same sources tsc compiles (tests still run against src/).
 *
 * Why a bundle: Node 20 resolves, reads and compiles every ESM file on its own, and `cirt run
 * contain` reaches ~900 files (dockerode alone pulls in gRPC, protobuf and ssh2). Loading that took
 * ~0.6 s before the first engine request; the bundle loads the same code in a few files.
 * Dynamic imports stay chunk boundaries, so the TUI (Ink, React) loads only for the TUI, and each
 * command's code only when it runs (src/cli/program.ts).
 *
 * Two parts of dockerode's dependencies are left out, as cirt never uses them: ssh2 (cirt accepts
 * unix:// and tcp:// engines only, src/docker/connection.ts) and dockerode's BuildKit session
 * (gRPC + protobuf, only for `buildImage` with a session; cirt builds no images). Each is replaced
 * by a module that throws if it is ever called, so a future use fails loudly, not silently.
 */
import fs from 'node:fs';
import path from 'node:path';
import * as esbuild from 'esbuild';
import { packageRoot } from '../src/util/pkg.js';

// From dist/scripts/ (npm run build) or scripts/ (a test importing it).
const ROOT = packageRoot();
const OUT = path.join(ROOT, 'dist', 'bundle');

const leftOut: esbuild.Plugin = {
  name: 'cirt-left-out',
  setup(b) {
    b.onResolve({ filter: /^ssh2$/ }, () => ({ path: 'ssh2', namespace: 'cirt-left-out' }));
    b.onResolve({ filter: /^\.\/session$/ }, (a) =>
      a.importer.includes(`${path.sep}dockerode${path.sep}lib${path.sep}`)
        ? { path: 'dockerode BuildKit session', namespace: 'cirt-left-out' }
        : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'cirt-left-out' }, (a) => ({
      contents: `const no = () => { throw new Error(${JSON.stringify(`${a.path} is not part of the cirt bundle (scripts/bundle.ts)`)}); };
module.exports = new Proxy(no, { get: (_t, k) => (k === '__esModule' ? false : no) });`,
      loader: 'js',
    }));
  },
};

export async function bundle(): Promise<esbuild.Metafile> {
  fs.rmSync(OUT, { recursive: true, force: true });
  const r = await esbuild.build({
    absWorkingDir: ROOT,
    entryPoints: { main: 'src/cli/main.ts' },
    outdir: OUT,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    minify: true,
    // Stack traces of a bug report still name the source file and line.
    sourcemap: 'linked',
    metafile: true,
    // The CommonJS packages bundled in (dockerode, …) call require() for Node's own modules.
    banner: {
      js: "import { createRequire as __cirtRequire } from 'node:module'; const require = __cirtRequire(import.meta.url);",
    },
    // Ink's optional React DevTools hook (only with DEV=true); cpu-features is a native addon of ssh2.
    external: ['react-devtools-core', 'cpu-features'],
    plugins: [leftOut],
    logLevel: 'warning',
  });
  fs.chmodSync(path.join(OUT, 'main.js'), 0o755);
  return r.metafile;
}

const isEntry = process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (isEntry) {
  bundle().then(
    (meta) => {
      const bytes = Object.values(meta.outputs).reduce((n, o) => n + o.bytes, 0);
      process.stderr.write(
        `dist/bundle: ${Object.keys(meta.outputs).filter((f) => f.endsWith('.js')).length} files, ${(bytes / 1024).toFixed(0)} KiB\n`,
      );
    },
    (err: Error) => {
      process.stderr.write(`bundle failed: ${err.message}\n`);
      process.exitCode = 1;
    },
  );
}
