import { describe, expect, it } from 'vitest';
import { filterParams, hashQuery, insightHash, parseInsightQuery } from './insight-query.js';

describe('the insight page in the address', () => {
  it('reads the filters, the open figure and the table view from the hash query', () => {
    const view = parseInsightQuery(
      hashQuery(
        '#/insight?from=2026-11-05&to=2026-12-05&branch=region&code=ACK_TIMEOUT&figure=byCode&key=ACK_TIMEOUT&outcome=failed&view=table',
      ),
    );
    expect(view).toEqual({
      filters: { from: '2026-11-05', to: '2026-12-05', branch: 'region', station: null, code: 'ACK_TIMEOUT' },
      pick: { kind: 'flows', figure: 'byCode', key: 'ACK_TIMEOUT', outcome: 'failed' },
      table: true,
    });
  });

  it('leaves out what is malformed instead of guessing', () => {
    const view = parseInsightQuery('from=5/11/2026&to=&figure=nonsense&outcome=maybe');
    expect(view.filters.from).toBeNull();
    expect(view.filters.to).toBeNull();
    expect(view.pick).toBeNull();
    expect(view.table).toBe(false);
    expect(parseInsightQuery('figure=perDay&key=2026-12-01&outcome=maybe').pick).toEqual({
      kind: 'flows',
      figure: 'perDay',
      key: '2026-12-01',
      outcome: 'failed',
    });
    expect(parseInsightQuery('figure=caseResolution').pick).toEqual({ kind: 'cases' });
  });

  it('writes a view back to the same address, the set filters only', () => {
    const hash =
      '#/insight?from=2026-11-05&to=2026-12-05&station=st-1&figure=byAgent&key=1.4.0%2Fmsi&outcome=started&view=table';
    expect(insightHash(parseInsightQuery(hashQuery(hash)))).toBe(hash);
    expect(insightHash(parseInsightQuery(''))).toBe('#/insight');
    expect(
      filterParams({ from: '2026-11-05', to: null, branch: null, station: null, code: 'ACK_TIMEOUT' }),
    ).toEqual({
      from: '2026-11-05',
      code: 'ACK_TIMEOUT',
    });
  });
});
