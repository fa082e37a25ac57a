// Neira's factory CLI protocol (scripts/factory-shim/index.mjs in the Neira repository), replayed
// with Node's global fetch: the same commands, paths, headers and JSON bodies, plus a check of each
// answer's shape. tests/e2e/test_neira_shim_e2e.py runs it against a real `neira-factory serve`.
//
//   FACTORY_BASE_URL=http://127.0.0.1:8080 FACTORY_TOKEN=... node factory_cli.mjs COMMAND [--flags]
//
//   dryrun-cell  --spec FILE          POST /factory/cells/dryrun   {backend: "adapter", ...cell}
//   create-cell  --spec FILE [--hitl] POST /factory/cells          {...cell, hitl: true}
//   approve-cell --id ID [--yes]      POST /factory/cells/ID/approve   (no body)
//   organ-build  --template FILE [--dryrun]
//                                     POST /organs/build           {organ_template, dryrun}
//   organ-status --id ID              GET  /organs/ID/status
//
// On success it prints {"step", "status", "body"} as one JSON line and exits 0. On a non-2xx answer
// or a body without the fields Neira reads (or a missing flag), it prints "FAILED <step>: <why>" and
// the body to stderr and exits 1; an unknown command exits 2.
import fs from 'node:fs';

const BASE = (process.env.FACTORY_BASE_URL || 'http://127.0.0.1:3000').replace(/\/$/, '');
const TOKEN = process.env.FACTORY_TOKEN || '';

class StepFailed extends Error {
  constructor(step, why, body) {
    super(`FAILED ${step}: ${why}`);
    this.body = body;
  }
}

function flags(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i += 1) {
    if (!argv[i].startsWith('--')) throw new StepFailed('usage', `unexpected argument ${argv[i]}`);
    const name = argv[i].slice(2);
    const value = argv[i + 1];
    if (value === undefined || value.startsWith('--')) {
      out[name] = true;
    } else {
      out[name] = value;
      i += 1;
    }
  }
  return out;
}

function required(args, name, step) {
  if (typeof args[name] !== 'string') throw new StepFailed(step, `--${name} is required`);
  return args[name];
}

async function call(step, method, path, body) {
  const headers = { 'Content-Type': 'application/json' };
  if (TOKEN) headers.Authorization = `Bearer ${TOKEN}`;
  const res = await fetch(`${BASE}${path}`, {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed;
  try {
    parsed = text ? JSON.parse(text) : {};
  } catch {
    throw new StepFailed(step, `HTTP ${res.status} with a body that is not JSON`, text);
  }
  if (!res.ok) throw new StepFailed(step, `HTTP ${res.status} ${method} ${path}`, parsed);
  return { status: res.status, body: parsed };
}

function expect(step, answer, checks) {
  for (const [what, ok] of checks) {
    if (!ok(answer.body)) throw new StepFailed(step, `unexpected body: ${what}`, answer.body);
  }
  return answer;
}

const isString = (v) => typeof v === 'string' && v.length > 0;

const COMMANDS = {
  'dryrun-cell': async (args, step) => {
    const cell = JSON.parse(fs.readFileSync(required(args, 'spec', step), 'utf-8'));
    const answer = await call(step, 'POST', '/factory/cells/dryrun', { backend: 'adapter', ...cell });
    return expect(step, answer, [
      ['ok is true', (b) => b.ok === true],
      [`report.id is ${cell.id}`, (b) => b.report && b.report.id === cell.id],
    ]);
  },
  'create-cell': async (args, step) => {
    const cell = JSON.parse(fs.readFileSync(required(args, 'spec', step), 'utf-8'));
    const body = { ...cell };
    if (args.hitl) body.hitl = true;
    const answer = await call(step, 'POST', '/factory/cells', body);
    return expect(step, answer, [
      [`id is ${cell.id}`, (b) => b.id === cell.id],
      ['state is a string', (b) => isString(b.state)],
    ]);
  },
  'approve-cell': async (args, step) => {
    const id = required(args, 'id', step);
    const answer = await call(step, 'POST', `/factory/cells/${encodeURIComponent(id)}/approve`);
    return expect(step, answer, [
      [`id is ${id}`, (b) => b.id === id],
      ['state is a string', (b) => isString(b.state)],
    ]);
  },
  'organ-build': async (args, step) => {
    const organ = JSON.parse(fs.readFileSync(required(args, 'template', step), 'utf-8'));
    const answer = await call(step, 'POST', '/organs/build', { organ_template: organ, dryrun: !!args.dryrun });
    return expect(step, answer, [
      ['state is a string', (b) => isString(b.state)],
      [`organ_id is ${args.dryrun ? 'null (a dry-run)' : organ.id}`,
        (b) => b.organ_id === (args.dryrun ? null : organ.id)],
    ]);
  },
  'organ-status': async (args, step) => {
    const id = required(args, 'id', step);
    const answer = await call(step, 'GET', `/organs/${encodeURIComponent(id)}/status`);
    return expect(step, answer, [
      [`id is ${id}`, (b) => b.id === id],
      ['state is a string', (b) => isString(b.state)],
      ['nodes is a list of {id, state}', (b) => Array.isArray(b.nodes)
        && b.nodes.every((n) => isString(n.id) && isString(n.state))],
      ['metrics is an object', (b) => b.metrics !== null && typeof b.metrics === 'object'],
    ]);
  },
};

async function main() {
  const [command, ...rest] = process.argv.slice(2);
  const run = COMMANDS[command];
  if (!run) {
    console.error(`usage: node factory_cli.mjs {${Object.keys(COMMANDS).join('|')}} [--flags]`);
    process.exit(2);
  }
  try {
    const { status, body } = await run(flags(rest), command);
    console.log(JSON.stringify({ step: command, status, body }));
  } catch (e) {
    console.error(e instanceof StepFailed ? e.message : `FAILED ${command}: ${e.message || e}`);
    if (e.body !== undefined) console.error(JSON.stringify(e.body, null, 2));
    process.exit(1);
  }
}

main();
