// A Shipgate policy in AssemblyScript, reactor shape (sdk/ABI.md §3.1).
//
// It denies every CRITICAL vulnerability in report.vulnerabilities that is
// not suppressed (by an ignore rule or VEX). The input JSON is read by a
// tiny hand-written scanner below (no JSON library): it walks the document,
// skips every value it does not need, and decodes only the few strings it
// reports. Object keys are matched byte for byte, so a key spelt with \u
// escapes ("sev\u0065rity") is not recognised; Shipgate never writes those.
//
// Build: see README.md (asc assembly/index.ts --runtime stub ...).

// shipgate.log(level, ptr, len): a log line shown with the policy's name.
@external("shipgate", "log")
declare function hostLog(level: i32, ptr: usize, len: i32): void;

function log(level: i32, msg: string): void {
  const b = String.UTF8.encode(msg);
  hostLog(level, changetype<usize>(b), b.byteLength);
}

// abortHandler replaces AssemblyScript's env.abort import (the host provides
// only WASI and shipgate.log): log the message, then trap, which the host
// reports as an abort.
function abortHandler(message: string | null, file: string | null, line: u32, column: u32): void {
  log(3, "abort: " + (message ? message : "") + " at " + (file ? file : "") + ":" + line.toString() + ":" + column.toString());
  unreachable();
}

// shipgate_alloc returns len writable bytes for the input.
export function shipgate_alloc(len: i32): i32 {
  return <i32>heap.alloc(<usize>len);
}

// shipgate_evaluate reads the input at ptr,len and returns ptr << 32 | len
// of the decision.
export function shipgate_evaluate(ptr: i32, len: i32): i64 {
  const out = String.UTF8.encode(evaluate(<usize>ptr, <usize>len));
  return (<i64>changetype<usize>(out) << 32) | <i64>out.byteLength;
}

// shipgate_metadata returns the policy's metadata (sdk/ABI.md §5).
export function shipgate_metadata(): i64 {
  const out = String.UTF8.encode(
    '{"name":"as-critical","version":"1.0.0","description":"AssemblyScript example: deny unsuppressed CRITICAL vulnerabilities","params":{"type":"object"}}');
  return (<i64>changetype<usize>(out) << 32) | <i64>out.byteLength;
}

class Vuln {
  id: string = "";
  pkg: string = "";
  version: string = "";
  ref: string = "";
  severity: string = "";
  suppressed: bool = false;
}

function evaluate(ptr: usize, len: usize): string {
  const p = new Scanner(ptr, ptr + len);
  const deny = new Array<Vuln>();
  let apiVersion = "";
  let sawReport = false;
  // input: {"apiVersion": ..., "policy": ..., "report": {... "vulnerabilities": [...]}}
  if (!p.objectStart()) return errorDecision("input is not a JSON object");
  while (p.nextKey()) {
    if (p.keyIs("apiVersion")) {
      apiVersion = p.stringValue();
    } else if (p.keyIs("report")) {
      sawReport = true;
      if (!p.objectStart()) {
        if (!p.skipValue()) break;
        continue;
      }
      while (p.nextKey()) {
        if (p.keyIs("vulnerabilities") && p.arrayStart()) {
          while (p.nextElement()) {
            const v = readVuln(p);
            if (!v) break;
            if (v.severity == "CRITICAL" && !v.suppressed) deny.push(v);
          }
        } else if (!p.skipValue()) {
          break;
        }
      }
    } else if (!p.skipValue()) {
      break;
    }
  }
  if (p.failed) return errorDecision("malformed input JSON at byte " + (p.pos - ptr).toString());
  if (apiVersion != "shipgate.dev/v1") return errorDecision("unsupported apiVersion \"" + apiVersion + "\"");
  if (!sawReport) return errorDecision("input has no report");
  log(1, "as-critical: " + deny.length.toString() + " critical vulnerabilities");

  let s = '{"deny":[';
  for (let i = 0; i < deny.length; i++) {
    const v = deny[i];
    if (i > 0) s += ",";
    s += '{"message":' + quote("CRITICAL " + v.id + " in " + v.pkg + " " + v.version) +
      ',"rule":"critical-vulnerability","severity":"CRITICAL","refs":[' + quote(v.id);
    if (v.ref.length > 0) s += "," + quote(v.ref);
    s += "]}";
  }
  return s + '],"warn":[]}';
}

// readVuln reads one element of report.vulnerabilities (an object).
function readVuln(p: Scanner): Vuln | null {
  const v = new Vuln();
  if (!p.objectStart()) {
    return p.skipValue() ? v : null;
  }
  while (p.nextKey()) {
    if (p.keyIs("id")) v.id = p.stringValue();
    else if (p.keyIs("packageName")) v.pkg = p.stringValue();
    else if (p.keyIs("installedVersion")) v.version = p.stringValue();
    else if (p.keyIs("packageRef")) v.ref = p.stringValue();
    else if (p.keyIs("severity")) v.severity = p.stringValue();
    else if (p.keyIs("suppressed")) {
      v.suppressed = !p.peekNull();
      if (!p.skipValue()) return null;
    } else if (!p.skipValue()) return null;
  }
  return p.failed ? null : v;
}

function errorDecision(msg: string): string {
  return '{"error":' + quote(msg) + "}";
}

// quote returns s as a JSON string literal.
function quote(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c == 0x22) out += '\\"';
    else if (c == 0x5c) out += "\\\\";
    else if (c < 0x20) {
      const h = c.toString(16);
      out += "\\u" + "0000".substring(h.length) + h;
    } else out += String.fromCharCode(c);
  }
  return out + '"';
}

// Scanner walks a JSON document in linear memory, byte by byte. Every method
// returns false (and sets failed) on malformed input instead of trapping,
// so bad input becomes a policy error, never a crash.
class Scanner {
  pos: usize;
  end: usize;
  failed: bool = false;
  // state of the current object or array: whether the next member is the first
  first: bool = true;
  keyStart: usize = 0;
  keyLen: usize = 0;
  depth: i32 = 0;

  constructor(pos: usize, end: usize) {
    this.pos = pos;
    this.end = end;
  }

  fail(): bool {
    this.failed = true;
    this.pos = this.end;
    return false;
  }

  ws(): void {
    while (this.pos < this.end) {
      const c = load<u8>(this.pos);
      if (c != 0x20 && c != 0x0a && c != 0x0d && c != 0x09) break;
      this.pos++;
    }
  }

  peek(): i32 {
    this.ws();
    return this.pos < this.end ? <i32>load<u8>(this.pos) : -1;
  }

  objectStart(): bool {
    if (this.peek() != 0x7b) return false; // {
    this.pos++;
    this.first = true;
    return true;
  }

  arrayStart(): bool {
    if (this.peek() != 0x5b) return false; // [
    this.pos++;
    this.first = true;
    return true;
  }

  // nextKey moves to the next member of the current object and reads its
  // key; false at the closing brace (consumed) or on an error.
  nextKey(): bool {
    if (this.failed) return false;
    let c = this.peek();
    if (c == 0x7d) { this.pos++; this.first = false; return false; } // }
    if (!this.first) {
      if (c != 0x2c) return this.fail(); // ,
      this.pos++;
      c = this.peek();
    }
    this.first = false;
    if (c != 0x22) return this.fail();
    const start = this.pos + 1;
    if (!this.skipString()) return false;
    this.keyStart = start;
    this.keyLen = this.pos - 1 - start;
    if (this.peek() != 0x3a) return this.fail(); // :
    this.pos++;
    return true;
  }

  // nextElement moves to the next element of the current array; false at
  // the closing bracket (consumed) or on an error.
  nextElement(): bool {
    if (this.failed) return false;
    const c = this.peek();
    if (c == 0x5d) { this.pos++; this.first = false; return false; } // ]
    if (!this.first) {
      if (c != 0x2c) return this.fail();
      this.pos++;
    }
    this.first = false;
    return true;
  }

  keyIs(k: string): bool {
    if (<usize>k.length != this.keyLen) return false;
    for (let i = 0; i < k.length; i++) {
      if (<u32>load<u8>(this.keyStart + <usize>i) != <u32>k.charCodeAt(i)) return false;
    }
    return true;
  }

  peekNull(): bool {
    return this.peek() == 0x6e; // n
  }

  // skipString skips a string literal (pos at the opening quote).
  skipString(): bool {
    this.pos++;
    while (this.pos < this.end) {
      const c = load<u8>(this.pos++);
      if (c == 0x22) return true;
      if (c == 0x5c) this.pos++;
      else if (c < 0x20) return this.fail();
    }
    return this.fail();
  }

  // stringValue reads a string value, decoding escapes; a non-string value
  // is skipped and reads as "".
  stringValue(): string {
    if (this.peek() != 0x22) {
      this.skipValue();
      return "";
    }
    const start = this.pos + 1;
    if (!this.skipString()) return "";
    const end = this.pos - 1;
    let escaped = false;
    for (let q = start; q < end; q++) {
      if (load<u8>(q) == 0x5c) { escaped = true; break; }
    }
    if (!escaped) return String.UTF8.decodeUnsafe(start, end - start);
    let out = "";
    let run = start;
    let q = start;
    while (q < end) {
      if (load<u8>(q) != 0x5c) { q++; continue; }
      out += String.UTF8.decodeUnsafe(run, q - run);
      const e = load<u8>(q + 1);
      q += 2;
      if (e == 0x6e) out += "\n";
      else if (e == 0x74) out += "\t";
      else if (e == 0x72) out += "\r";
      else if (e == 0x62) out += "\b";
      else if (e == 0x66) out += "\f";
      else if (e == 0x75) {
        let code: i32 = 0;
        for (let i = 0; i < 4 && q < end; i++, q++) {
          const h = <i32>load<u8>(q);
          code <<= 4;
          if (h >= 0x30 && h <= 0x39) code |= h - 0x30;
          else if (h >= 0x61 && h <= 0x66) code |= h - 0x61 + 10;
          else if (h >= 0x41 && h <= 0x46) code |= h - 0x41 + 10;
          else { this.fail(); return ""; }
        }
        out += String.fromCharCode(code); // UTF-16 unit; surrogate pairs join up
      } else out += String.fromCharCode(e); // \" \\ \/
      run = q;
    }
    return out + String.UTF8.decodeUnsafe(run, end - run);
  }

  // skipValue skips any JSON value, nesting included.
  skipValue(): bool {
    const c = this.peek();
    if (c == 0x22) return this.skipString();
    if (c == 0x7b || c == 0x5b) {
      // Skip a container by counting brackets outside strings.
      let depth = 0;
      while (this.pos < this.end) {
        const b = load<u8>(this.pos);
        if (b == 0x22) {
          if (!this.skipString()) return false;
          continue;
        }
        this.pos++;
        if (b == 0x7b || b == 0x5b) depth++;
        else if (b == 0x7d || b == 0x5d) {
          depth--;
          if (depth == 0) return true;
        }
      }
      return this.fail();
    }
    // number, true, false, null: up to the next delimiter
    const start = this.pos;
    while (this.pos < this.end) {
      const b = load<u8>(this.pos);
      if (b == 0x2c || b == 0x7d || b == 0x5d || b == 0x20 || b == 0x0a || b == 0x0d || b == 0x09) break;
      this.pos++;
    }
    return this.pos > start ? true : this.fail();
  }
}
