import { describe, expect, it } from 'vitest';
import { oldestWriterInStatus } from '../../../../../connectors/erp-source/dialects/mysql.js';

const status = (list: string) => `
------------
TRANSACTIONS
------------
Trx id counter 364096
History list length 54
LIST OF TRANSACTIONS FOR EACH SESSION:
${list}--------
FILE I/O
--------
Pending flushes (fsync): 0
`;

describe('SHOW ENGINE INNODB STATUS as gap evidence (when INNODB_TRX is stale)', () => {
  it('takes the oldest transaction with undo log entries, rounding its age up', () => {
    const text = status(`---TRANSACTION (0x7f84a991c180), not started
0 lock struct(s), heap size 1128, 0 row lock(s)
---TRANSACTION 364091, ACTIVE 0 sec
3 lock struct(s), heap size 1128, 1 row lock(s), undo log entries 2
MariaDB thread id 33582, OS thread handle 131411510580928, query id 895220 127.0.0.1 erpstream
---TRANSACTION (0x7f84a9920380), ACTIVE 9 sec
0 lock struct(s), heap size 1128, 0 row lock(s)
MariaDB thread id 33573, OS thread handle 140208066967232, query id 894712 127.0.0.1 erpstream
---TRANSACTION 363992, ACTIVE (PREPARED) 4 sec
1 lock struct(s), heap size 1128, 0 row lock(s), undo log entries 1
MySQL thread id 33572, OS thread handle 140207736280768, query id 894705 127.0.0.1 erpstream
`);
    // The 9 s reader holds no number; the prepared 4 s writer is the oldest writer.
    expect(oldestWriterInStatus(text)).toBe(5_000);
    expect(oldestWriterInStatus(status('---TRANSACTION (0x1), not started\n0 lock struct(s)\n'))).toBeNull();
  });

  it('errs on the side of holding: truncated or missing lists are stale, an unreadable age holds everything', () => {
    expect(oldestWriterInStatus('')).toBe('stale');
    expect(oldestWriterInStatus(status('---TRANSACTION 1, ACTIVE 1 sec\n...truncated...\n'))).toBe('stale');
    expect(oldestWriterInStatus(status('---TRANSACTION 1, ACTIVE a while\nundo log entries 3\n'))).toBe(
      Number.POSITIVE_INFINITY,
    );
    // A statement text quoting the section end cannot cut later transactions off.
    const quoted = status(`---TRANSACTION 2, ACTIVE 0 sec
undo log entries 1
MariaDB thread id 7
SELECT '
--------
FILE I/O
'
---TRANSACTION 3, ACTIVE 30 sec
undo log entries 1
MariaDB thread id 8
`);
    expect(oldestWriterInStatus(quoted)).toBe(31_000);
  });
});
