// Lists every module file a node process loads, one path per line, in the file AZURITE_TRACE names: run the local
// stack once with NODE_OPTIONS=--require=tools/bench/azurite-trace.js, and gpu-bundle.sh carries only those files of
// Azurite's node_modules (a few MB of the 360 MB) to a machine without a package registry.
const Module = require('module');
const fs = require('fs');
const out = process.env.AZURITE_TRACE;
if (out) {
  const seen = new Set();
  for (const ext of Object.keys(Module._extensions)) {
    const load = Module._extensions[ext];
    Module._extensions[ext] = function (module, filename) {
      if (!seen.has(filename)) {
        seen.add(filename);
        fs.appendFileSync(out, filename + '\n');
      }
      return load.apply(this, arguments);
    };
  }
}
