/**
 * The subset of Python's `ast.literal_eval` that Ansible's INI plugin applies to every value: numbers (with
 * `0x`/`0o`/`0b` and `_`), `True`/`False`/`None`, quoted strings (adjacent ones joined), lists, tuples (also a bare
 * `1,2`) and dicts, with an optional trailing `# comment`. Anything else is not a literal: `undefined` is returned and
 * the caller keeps the text as it is (that is how `{{ jinja }}` and `hello world` stay strings).
 */
export type PyValue = string | number | boolean | null | PyValue[] | { [k: string]: PyValue };

class NotLiteral extends Error {}

export function pyLiteral(text: string): PyValue | undefined {
  try {
    const p = new Parser(text.replace(/^[ \t]+/, ''));
    const v = p.expr();
    p.skip();
    if (p.i !== p.s.length) return undefined;
    return v;
  } catch (e) {
    if (e instanceof NotLiteral) return undefined;
    throw e;
  }
}

const NUMBER =
  /^(?:0[xX](?:_?[0-9a-fA-F])+|0[oO](?:_?[0-7])+|0[bB](?:_?[01])+|(?:(?:\d(?:_?\d)*)?\.\d(?:_?\d)*|\d(?:_?\d)*\.?)(?:[eE][+-]?\d(?:_?\d)*)?)/;

class Parser {
  i = 0;
  constructor(readonly s: string) {}

  skip(): void {
    while (this.i < this.s.length) {
      const c = this.s[this.i]!;
      if (c === ' ' || c === '\t' || c === '\f') this.i++;
      else if (c === '#') this.i = this.s.length;
      else if (c === '\\' && this.s[this.i + 1] === '\n') this.i += 2;
      else break;
    }
  }

  peek(): string | undefined {
    this.skip();
    return this.s[this.i];
  }

  /** Top level and inside parentheses: `a, b` is a tuple. */
  expr(): PyValue {
    const first = this.item();
    if (this.peek() !== ',') return first;
    const items = [first];
    while (this.peek() === ',') {
      this.i++;
      const c = this.peek();
      if (c === undefined || c === ')' || c === ']' || c === '}') break;
      items.push(this.item());
    }
    return items;
  }

  item(): PyValue {
    const c = this.peek();
    if (c === undefined) throw new NotLiteral();
    if (c === '[') return this.seq(']');
    if (c === '(') {
      this.i++;
      if (this.peek() === ')') {
        this.i++;
        return [];
      }
      const v = this.expr();
      if (this.peek() !== ')') throw new NotLiteral();
      this.i++;
      return v;
    }
    if (c === '{') return this.dict();
    if (c === '-' || c === '+') {
      // One sign on a plain number; parentheses make no node in Python's AST, so -(1) is fine too.
      this.i++;
      let open = 0;
      while (this.peek() === '(') {
        this.i++;
        open++;
      }
      this.skip();
      const n = this.number();
      for (; open > 0; open--) {
        if (this.peek() !== ')') throw new NotLiteral();
        this.i++;
      }
      return c === '-' ? -n : n;
    }
    if (/[0-9.]/.test(c)) return this.number();
    if (c === '"' || c === "'" || (/[uUrR]/.test(c) && /["']/.test(this.s[this.i + 1] ?? ''))) return this.strings();
    const word = /^[A-Za-z_][A-Za-z0-9_]*/.exec(this.s.slice(this.i))?.[0];
    if (word === 'True' || word === 'False' || word === 'None') {
      this.i += word.length;
      return word === 'True' ? true : word === 'False' ? false : null;
    }
    throw new NotLiteral();
  }

  number(): number {
    const m = NUMBER.exec(this.s.slice(this.i));
    if (!m) throw new NotLiteral();
    const t = m[0].replace(/_/g, '');
    const next = this.s[this.i + m[0].length];
    // `007` is a syntax error in Python 3; `1j` is complex, which JSON cannot carry; `1abc` is no number.
    if (next !== undefined && /[A-Za-z0-9_]/.test(next)) throw new NotLiteral();
    if (/^0\d/.test(t) && !/^0+$/.test(t) && !/[.eE]/.test(t)) throw new NotLiteral();
    this.i += m[0].length;
    if (/^0[xX]/.test(t)) return parseInt(t.slice(2), 16);
    if (/^0[oO]/.test(t)) return parseInt(t.slice(2), 8);
    if (/^0[bB]/.test(t)) return parseInt(t.slice(2), 2);
    return Number(t);
  }

  seq(close: string): PyValue[] {
    this.i++;
    const items: PyValue[] = [];
    for (;;) {
      if (this.peek() === close) {
        this.i++;
        return items;
      }
      items.push(this.item());
      const c = this.peek();
      if (c === ',') this.i++;
      else if (c !== close) throw new NotLiteral();
    }
  }

  dict(): { [k: string]: PyValue } {
    this.i++;
    const out: { [k: string]: PyValue } = {};
    for (;;) {
      if (this.peek() === '}') {
        this.i++;
        return out;
      }
      const k = this.item();
      if (this.peek() !== ':') throw new NotLiteral(); // `{1, 2}` is a set: not JSON, not supported
      this.i++;
      const v = this.item();
      if (k !== null && typeof k === 'object') throw new NotLiteral();
      out[k === null ? 'null' : String(k)] = v;
      const c = this.peek();
      if (c === ',') this.i++;
      else if (c !== '}') throw new NotLiteral();
    }
  }

  strings(): string {
    let out = this.string();
    for (;;) {
      const c = this.peek();
      if (c === '"' || c === "'" || (c !== undefined && /[uUrR]/.test(c) && /["']/.test(this.s[this.i + 1] ?? ''))) {
        out += this.string();
      } else return out;
    }
  }

  string(): string {
    let raw = false;
    if (/[uU]/.test(this.s[this.i]!)) this.i++;
    else if (/[rR]/.test(this.s[this.i]!)) {
      raw = true;
      this.i++;
    }
    const q = this.s[this.i]!;
    const triple = this.s.startsWith(q.repeat(3), this.i);
    const close = triple ? q.repeat(3) : q;
    this.i += close.length;
    let out = '';
    for (;;) {
      if (this.i >= this.s.length) throw new NotLiteral();
      if (this.s.startsWith(close, this.i)) {
        this.i += close.length;
        return out;
      }
      const c = this.s[this.i]!;
      if (c === '\\') {
        const n = this.s[this.i + 1];
        if (n === undefined) throw new NotLiteral();
        if (raw) {
          out += c + n;
          this.i += 2;
          continue;
        }
        this.i += 2;
        out += this.escape(n);
      } else {
        if (c === '\n' && !triple) throw new NotLiteral();
        out += c;
        this.i++;
      }
    }
  }

  escape(n: string): string {
    const simple: Record<string, string> = {
      n: '\n', t: '\t', r: '\r', '\\': '\\', "'": "'", '"': '"', a: '\x07', b: '\b', f: '\f', v: '\v', '\n': '',
    };
    if (n in simple) return simple[n]!;
    const hex = (len: number): string => {
      const h = this.s.slice(this.i, this.i + len);
      if (!new RegExp(`^[0-9a-fA-F]{${len}}$`).test(h)) throw new NotLiteral();
      this.i += len;
      return String.fromCodePoint(parseInt(h, 16));
    };
    if (n === 'x') return hex(2);
    if (n === 'u') return hex(4);
    if (n === 'U') return hex(8);
    if (/[0-7]/.test(n)) {
      const m = /^[0-7]{0,2}/.exec(this.s.slice(this.i))![0];
      this.i += m.length;
      return String.fromCodePoint(parseInt(n + m, 8));
    }
    return '\\' + n; // Python keeps unknown escapes as they are
  }
}
