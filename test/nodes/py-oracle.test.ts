import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { shlexSplit } from '../../src/nodes/shlex.js';
import { pyLiteral } from '../../src/nodes/py-literal.js';
import { requireTools } from '../support/tools.js';

/** shlex.split(comments=True) and ast.literal_eval, compared with Python itself on the same inputs. */
const python = (code: string, inputs: string[]): unknown[] => {
  const r = spawnSync('python3', ['-c', code], { input: JSON.stringify(inputs), encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout) as unknown[];
};

const SHLEX = `
import json, shlex, sys
out = []
for s in json.load(sys.stdin):
    try: out.append(shlex.split(s, comments=True))
    except ValueError: out.append("ERR")
print(json.dumps(out))`;

const LITERAL = `
import ast, json, sys, warnings
warnings.simplefilter("ignore")
out = []
for s in json.load(sys.stdin):
    try:
        v = ast.literal_eval(s)
        json.dumps(v)
        out.append({"v": v})
    except Exception:
        out.append("ERR")
print(json.dumps(out))`;

describe('Python oracles', () => {
  requireTools('python3');

  it('shlexSplit = shlex.split(s, comments=True)', () => {
    const inputs = [
      'a b c', '  a   b  ', "a='x y' b", 'a="x \\"q\\" y"', "a='it''s'", 'a=b#c d', 'a #c', '#all', 'a\\ b c', '"a\\\\b"', '"a\\nb"',
      "'a\\b'", 'x="" y', "x=''", 'a="unclosed', "a='unclosed", 'end\\', 'k=v\tk2=v2', 'ünï=cödé', 'a="#not" b', 'a=1 ; b=2',
    ];
    const theirs = python(SHLEX, inputs);
    const ours = inputs.map((s) => {
      try {
        return shlexSplit(s);
      } catch {
        return 'ERR';
      }
    });
    expect(ours).toEqual(theirs);
  });

  it('pyLiteral = ast.literal_eval (where the answer is JSON)', () => {
    const inputs = [
      '1', '-3', '+4', '1.5', '.5', '5.', '1e3', '1E-2', '0x1F', '0o17', '0b101', '1_000', '007', '00', '0', 'True', 'False', 'None',
      'true', 'yes', "'a'", '"b"', "'a' 'b'", '"a\\tb"', "'\\x41\\u00e9'", "r'\\d'", "u'x'", '[1, 2]', '[1, [2, [3]]]', '(1,)', '()', '1,2',
      '1, 2,', "{'a': 1}", '{"a": [1, None]}', '{1: 2}', '{}', '{1, 2}', '[', 'hello', 'hello world', '{{ x }}', '{{x}}', '1 # c',
      "'x' # c", '1j', '1 + 2', '-(1)', '- 1', '-((2))', '-(1,)', '--1', '-True', '-(1', "'''tri'''", '"a" "b" "c"', '[1,]', '[,]', "'it\\'s'", '"""x"""', 'abc.def', '1_', '0x',
    ];
    const theirs = python(LITERAL, inputs).map((x) => (x === 'ERR' ? 'ERR' : (x as { v: unknown }).v));
    const ours = inputs.map((s) => {
      const v = pyLiteral(s);
      return v === undefined ? 'ERR' : v;
    });
    // Python's valid-but-not-JSON answers (sets, complex) are "not a literal" for us: the text is kept.
    expect(ours).toEqual(theirs);
  });
});
