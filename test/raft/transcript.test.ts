// Runs every transcript in test/raft/testdata (format and commands: transcript.ts). With
// REWRITE=1 the files are rewritten with what the core does now instead of being checked.
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { Interpreter, parseTranscript, rewriteTranscript } from './transcript.js';

const dir = path.join(import.meta.dirname, 'testdata');
const rewrite = process.env.REWRITE === '1';

for (const file of readdirSync(dir)
  .filter((f) => f.endsWith('.txt'))
  .sort()) {
  test(`transcript ${file}`, (t) => {
    const text = readFileSync(path.join(dir, file), 'utf8');
    const interpreter = new Interpreter();
    const outputs = new Map<number, string>();
    for (const block of parseTranscript(text)) {
      const actual = interpreter.run(block.command);
      outputs.set(block.line, actual);
      if (!rewrite)
        t.is(
          actual,
          block.expected,
          `${file}:${block.line}: ${block.command} (REWRITE=1 to accept the new output)`,
        );
    }
    if (rewrite) {
      writeFileSync(path.join(dir, file), rewriteTranscript(text, outputs));
      t.pass('rewritten');
    }
  });
}

test('a transcript whose output differs fails (the runner itself can fail)', (t) => {
  const interpreter = new Interpreter();
  const [block] = parseTranscript('cluster n1\n----\nsomething else\n');
  t.not(interpreter.run(block!.command), block!.expected);
});
