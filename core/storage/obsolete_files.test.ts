import { describe, expect, it } from 'vitest';
import { manifestFileName, tableFileName, walFileName } from './manifest.ts';
import { obsoleteFiles } from './obsolete_files.ts';

describe('obsolete files', () => {
  const names = [
    'CURRENT', 'CURRENT.tmp', 'LOCK', 'notes.txt',
    manifestFileName(3), manifestFileName(9), manifestFileName(12),
    walFileName(4), walFileName(8), walFileName(10), walFileName(11),
    tableFileName(5), tableFileName(6), tableFileName(7),
  ];
  const live = { tables: new Set([6]), logNumber: 10, openLogs: [8, 11], manifestNumber: 9, manifestSwitching: false };

  it('keeps what a live version, an open log, the current manifest or a job needs', () => {
    expect(obsoleteFiles(names, live).map((f) => f.name).sort()).toEqual(
      ['CURRENT.tmp', manifestFileName(3), walFileName(4), tableFileName(5), tableFileName(7)].sort(),
    );
  });

  it('leaves CURRENT.tmp and newer manifests alone during a switch, and never touches foreign files', () => {
    const out = obsoleteFiles(names, { ...live, manifestSwitching: true }).map((f) => f.name);
    expect(out).not.toContain('CURRENT.tmp');
    expect(out).not.toContain(manifestFileName(12));
    expect(out).not.toContain('LOCK');
    expect(out).not.toContain('CURRENT');
  });
});
