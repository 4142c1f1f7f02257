import { interpolate } from '../../src/compose/interpolate.js';
import { parseDotenv } from '../../src/compose/dotenv.js';
import { bytesToQuantity, cpusToQuantity, parseBytes, parseDuration, splitCommand } from '../../src/compose/units.js';

describe('interpolate', () => {
  const env = { USER: 'ada', EMPTY: '', PORT: '8080' };
  test.each([
    ['${USER}', 'ada'],
    ['$USER', 'ada'],
    ['x-$USER-y', 'x-ada-y'],
    ['${MISSING:-fallback}', 'fallback'],
    ['${EMPTY:-fallback}', 'fallback'],
    ['${EMPTY-fallback}', ''],
    ['${MISSING-fallback}', 'fallback'],
    ['${USER:+set}', 'set'],
    ['${MISSING:+set}', ''],
    ['${MISSING:-${PORT}}', '8080'],
    ['$$USER', '$USER'],
    ['cost: $$5', 'cost: $5'],
    ['$', '$'],
    ['a $ b', 'a $ b'],
    ['127.0.0.1:${PORT}:80', '127.0.0.1:8080:80'],
  ])('%s -> %s', (text, expected) => {
    const r = interpolate(text, env);
    expect(r.value).toBe(expected);
    expect(r.errors).toEqual([]);
  });

  test('records the variables it used and those unset', () => {
    const r = interpolate('${USER}/${NOPE}/${ALSO:-x}', env);
    expect(r.vars.sort()).toEqual(['ALSO', 'NOPE', 'USER']);
    expect(r.unset).toEqual(['NOPE']);
  });

  test(':? and ? report the message for missing variables', () => {
    expect(interpolate('${PASS:?run make up first}', env).errors).toEqual(['required variable PASS is not set: run make up first']);
    expect(interpolate('${EMPTY:?}', env).errors).toEqual(['required variable EMPTY is not set']);
    expect(interpolate('${EMPTY?}', env).errors).toEqual([]);
    expect(interpolate('${USER:?x}', env).value).toBe('ada');
  });

  test('malformed references are errors, not silent', () => {
    expect(interpolate('${OPEN', env).errors).toEqual(['unclosed variable reference "${OPEN"']);
    expect(interpolate('${1BAD}', env).errors).toEqual(['invalid variable reference "${1BAD}"']);
    expect(interpolate('${A:x}', env).errors).toEqual(['invalid variable reference "${A:x}"']);
  });
});

describe('dotenv', () => {
  test('parses the forms Compose accepts', () => {
    const r = parseDotenv(
      ['# comment', '', 'A=1', 'export B=two', "C='$literal # not a comment'", 'D="line\\nbreak"', 'E=value # comment', 'F', 'G=', ' H = spaced'].join('\n'),
      '.env',
    );
    expect(r.problems).toEqual([]);
    expect(r.entries.map((e) => [e.name, e.value])).toEqual([
      ['A', '1'],
      ['B', 'two'],
      ['C', '$literal # not a comment'],
      ['D', 'line\nbreak'],
      ['E', 'value'],
      ['F', undefined],
      ['G', ''],
      ['H', 'spaced'],
    ]);
    expect(r.entries[1]!.pos).toEqual({ file: '.env', line: 4, col: 1 });
  });

  test('reports bad lines with their position', () => {
    const r = parseDotenv('OK=1\n9BAD=x\nQ="open\n', 'x.env');
    expect(r.problems).toEqual([
      { message: 'invalid variable name "9BAD" in env file', pos: { file: 'x.env', line: 2, col: 1 } },
      { message: 'unterminated double quote in the value of Q', pos: { file: 'x.env', line: 3, col: 1 } },
    ]);
  });
});

describe('units', () => {
  test.each([
    ['30s', 30],
    ['1m30s', 90],
    ['1h', 3600],
    ['500ms', 0.5],
    ['10', 10],
    ['1.5s', 1.5],
  ])('duration %s = %d s', (text, s) => expect(parseDuration(text)).toBe(s));
  test.each(['soon', '10x', '', '-1s'])('duration %p is malformed', (text) => expect(parseDuration(text)).toBeUndefined());

  test.each([
    ['512m', 512 * 1024 ** 2, '512Mi'],
    ['1g', 1024 ** 3, '1Gi'],
    ['1G', 1024 ** 3, '1Gi'],
    ['64k', 65536, '64Ki'],
    ['1000', 1000, '1000'],
    ['2gb', 2 * 1024 ** 3, '2Gi'],
  ])('bytes %s', (text, bytes, quantity) => {
    expect(parseBytes(text)).toBe(bytes);
    expect(bytesToQuantity(bytes)).toBe(quantity);
  });
  test('bad sizes', () => expect(parseBytes('1X')).toBeUndefined());

  test.each([
    ['0.5', '500m'],
    ['2', '2'],
    ['1.25', '1250m'],
    ['0.001', '1m'],
  ])('cpus %s -> %s', (cpus, q) => expect(cpusToQuantity(cpus)).toBe(q));

  test('commands split like a shell, without expansion', () => {
    expect(splitCommand('gunicorn app:wsgi -b 0.0.0.0:8000')).toEqual(['gunicorn', 'app:wsgi', '-b', '0.0.0.0:8000']);
    expect(splitCommand(`sh -c 'echo "$HOME" && ls'`)).toEqual(['sh', '-c', 'echo "$HOME" && ls']);
    expect(splitCommand('echo "a \\"quoted\\" word" b\\ c')).toEqual(['echo', 'a "quoted" word', 'b c']);
    expect(splitCommand('echo ""')).toEqual(['echo', '']);
    expect(splitCommand("echo 'open")).toBeUndefined();
  });
});
