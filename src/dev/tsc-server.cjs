// The resident TypeScript compiler of `make dev` (a sync rule with `compile: { tsc: ... }`). It
// runs inside a container of the rule's Dockerfile stage (`docker exec -i … node tsc-server.cjs
// <tsconfig>`), with that stage's own `typescript` and types, and stays up for the session:
// the parsed lib and @types files and the builder's state (which files an edit affects, their
// earlier diagnostics) live in memory, so an edit costs a re-check of what it affects instead
// of a cold `tsc` (loading the compiler, parsing every .d.ts again).
//
// Plain CommonJS for any Node the stage has (the demo's drop-in image runs Node 18); it is read
// from the host's src/dev/ and never bundled.
//
// Protocol: one JSON object per line each way.
//   in:  {"id": 1, "files": {"src/server.ts": "<base64>" | null}}   (paths relative to the
//        working directory; null: deleted)
//   out: {"id": 1, "ok": true,  "outputs": {"server.js": "<base64>", ...}, "ms": 312}
//        {"id": 1, "ok": false, "diagnostics": "src/server.ts(3,1): error TS1109: …", "ms": 80}
// `outputs` is every file the project currently emits, relative to its outDir (the caller copies
// the ones that differ from what it copied last). Nothing is written to disk but the sources.
'use strict';
const fs = require('fs');
const path = require('path');
const readline = require('readline');

const cwd = process.cwd();
const ts = require(require.resolve('typescript', { paths: [cwd] }));
const configFile = path.resolve(cwd, process.argv[2] || 'tsconfig.json');

/** fileName -> { text, sf }: parsed sources, reused while their text is unchanged. */
const parsed = new Map();
let builder;
let versions = 0;

const formatHost = {
  getCanonicalFileName: (f) => f,
  getCurrentDirectory: () => cwd,
  getNewLine: () => '\n',
};

function compile() {
  const configDiagnostics = [];
  const config = ts.getParsedCommandLineOfConfigFile(configFile, {}, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => configDiagnostics.push(d),
  });
  if (!config) return { ok: false, diagnostics: ts.formatDiagnostics(configDiagnostics, formatHost) };
  const options = { ...config.options, noEmit: false };
  const host = ts.createCompilerHost(options);
  const read = host.readFile;
  host.getSourceFile = (fileName, languageVersion, onError) => {
    const text = read.call(host, fileName);
    if (text === undefined) {
      if (onError) onError(`cannot read ${fileName}`);
      return undefined;
    }
    const hit = parsed.get(fileName);
    if (hit && hit.text === text) return hit.sf;
    const sf = ts.createSourceFile(fileName, text, languageVersion, true);
    // the builder tells changed files from unchanged ones by this version
    sf.version = String(++versions);
    parsed.set(fileName, { text, sf });
    return sf;
  };
  builder = ts.createEmitAndSemanticDiagnosticsBuilderProgram(config.fileNames, options, host, builder, ts.getConfigFileParsingDiagnostics(config), config.projectReferences);
  const diagnostics = [
    ...builder.getConfigFileParsingDiagnostics(),
    ...builder.getOptionsDiagnostics(),
    ...builder.getGlobalDiagnostics(),
    ...builder.getSyntacticDiagnostics(),
    ...builder.getSemanticDiagnostics(),
  ].filter((d) => d.category === ts.DiagnosticCategory.Error);
  // nothing is emitted while anything fails: the builder keeps the pending emits for later
  if (diagnostics.length) return { ok: false, diagnostics: ts.formatDiagnostics(diagnostics, formatHost) };
  const outDir = options.outDir || cwd;
  builder.emit(undefined, (fileName, text) => {
    outputs.set(path.relative(outDir, fileName).split(path.sep).join('/'), Buffer.from(text).toString('base64'));
  });
  return { ok: true, outputs: Object.fromEntries([...outputs].sort()) };
}

/** Everything emitted so far (relative to outDir): the builder emits changed files only. */
const outputs = new Map();

function apply(files) {
  for (const [rel, content] of Object.entries(files || {})) {
    const abs = path.resolve(cwd, rel);
    if (content === null) {
      fs.rmSync(abs, { force: true });
      continue;
    }
    fs.mkdirSync(path.dirname(abs), { recursive: true });
    fs.writeFileSync(abs, Buffer.from(content, 'base64'));
  }
}

const lines = readline.createInterface({ input: process.stdin });
lines.on('line', (line) => {
  if (!line.trim()) return;
  const started = Date.now();
  let reply;
  let id;
  try {
    const req = JSON.parse(line);
    id = req.id;
    apply(req.files);
    reply = compile();
  } catch (err) {
    reply = { ok: false, diagnostics: `tsc-server: ${err && err.stack ? err.stack : err}` };
  }
  process.stdout.write(`${JSON.stringify({ id, ...reply, ms: Date.now() - started })}\n`);
});
lines.on('close', () => process.exit(0));
