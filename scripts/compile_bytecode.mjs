// Compiles every module of a deployment package with CPython 3.12's own compiler, for a machine that
// has no Python 3.12: Pyodide (CPython 3.12 built for WebAssembly, pinned in package-lock.json) runs
// compileall over the package folder, mounted into its file system. The .pyc files are unchecked
// hash-based (the import system loads them without reading the source) and record `prefix` (Lambda's
// /var/task) as the modules' path.
//
//   node scripts/compile_bytecode.mjs PACKAGE_DIR PREFIX
import path from "node:path";
import { loadPyodide } from "pyodide";

const [packageDir, prefix] = process.argv.slice(2);
if (!packageDir || !prefix) {
  console.error("usage: node scripts/compile_bytecode.mjs PACKAGE_DIR PREFIX");
  process.exit(2);
}
const pyodide = await loadPyodide({ stdout: console.log, stderr: console.error });
pyodide.FS.mkdirTree("/package");
pyodide.FS.mount(pyodide.FS.filesystems.NODEFS, { root: path.resolve(packageDir) }, "/package");
pyodide.globals.set("prefix", prefix);
const failed = pyodide.runPython(`
import compileall, py_compile, sys
assert sys.version_info[:2] == (3, 12), sys.version
ok = compileall.compile_dir(
    "/package", ddir=prefix, quiet=1, invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH
)
not ok
`);
if (failed) {
  console.error(`compile_bytecode: a module of ${packageDir} does not compile with Python 3.12`);
  process.exit(1);
}
