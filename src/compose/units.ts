/** Compose's units: durations (`1m30s`), byte sizes (`512m`), CPU counts, shell-like command splitting. */

const DURATION_PART = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g;
const DURATION = /^(?:\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h))+$/;
const UNIT_SECONDS: Record<string, number> = { ns: 1e-9, us: 1e-6, µs: 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 };

/** Go-style duration (`1m30s`, `500ms`) to seconds; a bare number counts as seconds. undefined when malformed. */
export function parseDuration(text: string | number): number | undefined {
  if (typeof text === 'number') return text >= 0 ? text : undefined;
  const t = text.trim();
  if (/^\d+(\.\d+)?$/.test(t)) return Number(t);
  if (!DURATION.test(t)) return undefined;
  let total = 0;
  for (const m of t.matchAll(DURATION_PART)) total += Number(m[1]) * UNIT_SECONDS[m[2]!]!;
  return total;
}

const BYTE_UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, kb: 1024, m: 1024 ** 2, mb: 1024 ** 2, g: 1024 ** 3, gb: 1024 ** 3, t: 1024 ** 4, tb: 1024 ** 4 };

/** Docker byte sizes (`512m`, `1g`, `1048576`, `2gb`): binary units. undefined when malformed. */
export function parseBytes(text: string | number): number | undefined {
  if (typeof text === 'number') return text >= 0 ? Math.round(text) : undefined;
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text.trim());
  if (!m) return undefined;
  const unit = BYTE_UNITS[m[2]!.toLowerCase()];
  return unit === undefined ? undefined : Math.round(Number(m[1]) * unit);
}

/** Bytes as a Kubernetes quantity, in the largest binary unit that divides it evenly. */
export function bytesToQuantity(bytes: number): string {
  for (const [suffix, size] of [['Gi', 1024 ** 3], ['Mi', 1024 ** 2], ['Ki', 1024]] as const) {
    if (bytes >= size && bytes % size === 0) return `${bytes / size}${suffix}`;
  }
  return String(bytes);
}

/** CPUs (`0.5`, `2`) as a Kubernetes quantity (`500m`, `2`). */
export function cpusToQuantity(cpus: string): string {
  const n = Number(cpus);
  if (Number.isInteger(n)) return String(n);
  return `${Math.round(n * 1000)}m`;
}

/** Splits a command string the way Compose does (shell-like words, quotes, no expansion). */
export function splitCommand(text: string): string[] | undefined {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote === "'") {
      if (c === "'") quote = undefined;
      else word += c;
    } else if (quote === '"') {
      if (c === '"') quote = undefined;
      else if (c === '\\' && i + 1 < text.length && '"\\$`\n'.includes(text[i + 1]!)) word += text[++i];
      else word += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      inWord = true;
    } else if (c === '\\' && i + 1 < text.length) {
      word += text[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (quote) return undefined;
  if (inWord) words.push(word);
  return words;
}
