'use strict';
// Preloaded (node --require) into every process the benchmark starts, the built API and workers
// included. It changes nothing in how they run; it only
//  - ends the process when the benchmark dies (the IPC channel closes), so nothing is left behind
//    even after a SIGKILL of the benchmark, and
//  - starts and stops a V8 CPU profile on request (the same profile `node --cpu-prof` writes, but
//    limited to one load phase instead of the whole life of the process), and
//  - reports its memory (V8 heap, native) and loaded packages on request.
const fs = require('node:fs');

if (typeof process.send === 'function') {
  process.on('disconnect', () => process.exit(0));
  let session;
  const post = (method, params) =>
    new Promise((resolve, reject) => session.post(method, params ?? {}, (error, result) => (error ? reject(error) : resolve(result))));
  process.on('message', (message) => {
    if (message?.cmd === 'memory-report') {
      // What the process holds: V8 heap and native memory, and the packages it has loaded.
      const packages = {};
      for (const file of Object.keys(require.cache)) {
        const i = file.lastIndexOf('node_modules/');
        const parts = i >= 0 ? file.slice(i + 13).split('/') : ['(app)'];
        const name = parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
        packages[name] = (packages[name] ?? 0) + 1;
      }
      process.send({ id: message.id, memory: process.memoryUsage(), heap: require('node:v8').getHeapStatistics(), modules: Object.keys(require.cache).length, packages });
      return;
    }
    if (!message || typeof message.cmd !== 'string' || !message.cmd.startsWith('profile-')) return;
    const reply = (fields) => process.send({ id: message.id, ...fields });
    (async () => {
      if (message.cmd === 'profile-start') {
        const inspector = require('node:inspector');
        session = new inspector.Session();
        session.connect();
        await post('Profiler.enable');
        await post('Profiler.start');
        reply({ ok: true });
      } else if (message.cmd === 'profile-stop') {
        const { profile } = await post('Profiler.stop');
        session.disconnect();
        fs.writeFileSync(message.file, JSON.stringify(profile));
        reply({ ok: true, file: message.file });
      }
    })().catch((error) => reply({ error: error.message }));
  });
}
