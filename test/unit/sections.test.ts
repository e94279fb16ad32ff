import { describe, expect, test } from '@jest/globals';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { SectionSplitter } from '../../src/collect/sections.js';

async function split(chunks: Buffer[]): Promise<Record<string, string | null>> {
  const got: Record<string, string | null> = {};
  const splitter = new SectionSplitter(async (label, size) => {
    if (size < 0) {
      got[label] = null;
      return null;
    }
    const parts: Buffer[] = [];
    return {
      write: async (c) => void parts.push(c),
      end: async () => void (got[label] = Buffer.concat(parts).toString('latin1')),
    };
  }, /^(owners|comm\.\d+|net\.[a-z0-9_]+)$/);
  await pipeline(Readable.from(chunks), splitter);
  return got;
}

const section = (label: string, body: string): string =>
  `${label} ${Buffer.byteLength(body, 'latin1')}\n${body}`;

describe('SectionSplitter', () => {
  // A hostile unix socket path that pretends to start a new section must stay inside its own.
  const hostile =
    'Num RefCount\n0000: 00000002 00000000 00010000 0001 01 5 /tmp/x\nnet.tcp 5\nFAKE!\n';
  const input = Buffer.from(
    section('comm.1', 'sh\n') +
      section('net.unix', hostile) +
      'net.tcp6 -1\n' +
      section('owners', '') +
      section('net.tcp', 'tcp body\n'),
    'latin1',
  );

  test.each([
    ['whole', [input]],
    ['byte by byte', [...input].map((b) => Buffer.from([b]))],
    [
      'in 7-byte chunks',
      Array.from({ length: Math.ceil(input.length / 7) }, (_, i) =>
        input.subarray(i * 7, i * 7 + 7),
      ),
    ],
  ])('%s', async (_n, chunks) => {
    expect(await split(chunks)).toEqual({
      'comm.1': 'sh\n',
      'net.unix': hostile,
      'net.tcp6': null,
      owners: '',
      'net.tcp': 'tcp body\n',
    });
  });

  test.each([
    ['an unknown label', 'evil 3\nabc'],
    ['a header without size', 'net.tcp\n'],
    ['output cut inside a section', 'net.tcp 10\nabc'],
    ['an endless header line', 'x'.repeat(300)],
  ])('rejects %s', async (_n, text) => {
    await expect(split([Buffer.from(text)])).rejects.toThrow(/framed|ended inside/);
  });
});
