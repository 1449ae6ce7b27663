// Where the insight page gets its numbers: the server's /api/insights routes, through the client
// generated from the OpenAPI document.
import { answer, client } from '../api/server-client.js';
import type { InsightAnswer, InsightCases, InsightFlows } from '../api/views.js';
import { filterParams, type InsightFilters, type InsightPick } from './insight-query.js';

export const fetchInsights = (filters: InsightFilters): Promise<InsightAnswer> =>
  answer<InsightAnswer>(client.GET('/api/insights', { params: { query: filterParams(filters) } }));

export const fetchFlows = (
  filters: InsightFilters,
  pick: Extract<InsightPick, { kind: 'flows' }>,
): Promise<InsightFlows> =>
  answer<InsightFlows>(
    client.GET('/api/insights/flows', {
      params: {
        query: {
          ...filterParams(filters),
          figure: pick.figure,
          ...(pick.key === '' ? {} : { key: pick.key }),
          outcome: pick.outcome,
        },
      },
    }),
  );

export const fetchCases = (filters: InsightFilters): Promise<InsightCases> =>
  answer<InsightCases>(client.GET('/api/insights/cases', { params: { query: filterParams(filters) } }));

/** The CSV download's address for the filters (a plain link: the browser downloads it). */
export const csvHref = (filters: InsightFilters): string => {
  const query = new URLSearchParams(filterParams(filters)).toString();
  return query === '' ? '/api/insights.csv' : `/api/insights.csv?${query}`;
};
