// Where the insight page gets its numbers: the server's /api/insights routes, through the client
// generated from the OpenAPI document.
import type { InsightAnswer, InsightCases, InsightFlows } from '../api/views.js';
import { filterParams, type InsightFilters, type InsightPick, pickParams } from './insight-query.js';

// Until the server's routes are in the OpenAPI document: a fixed answer of the route's shape.
const FIXTURE: InsightAnswer = {
  filters: { from: '2026-11-05', to: '2026-12-05', branch: null, station: null, code: null },
  branches: [{ id: 'region', name: 'Region Exempel' }],
  stations: [{ id: 'st-1', name: 'Kortstation 1' }],
  perDay: [
    { day: '2026-12-01', started: 12, completed: 9, failed: 3 },
    { day: '2026-12-02', started: 4, completed: 4, failed: 0 },
  ],
  byCode: [
    { code: 'CARD_REMOVED_DURING_DOWNLOAD', flows: 2 },
    { code: 'ACK_TIMEOUT', flows: 1 },
  ],
  byStep: [
    { step: 6, flows: 2 },
    { step: 7, flows: 1 },
  ],
  byStation: [{ stationId: 'st-1', stationName: 'Kortstation 1', flows: 16, failed: 3, rate: 0.1875 }],
  byAgent: [{ version: '1.4.0', packaging: 'msi', flows: 16, failed: 3, rate: 0.1875 }],
  ackTimeout: { reachedStep7: 10, ackTimeouts: 1, rate: 0.1 },
  caseResolution: { resolved: 4, medianMs: 3_600_000, p90Ms: 7_200_000 },
  busiestHours: [
    { hour: 9, started: 10 },
    { hour: 13, started: 6 },
  ],
};

export const fetchInsights = async (filters: InsightFilters): Promise<InsightAnswer> => {
  void filterParams(filters);
  return FIXTURE;
};

export const fetchFlows = async (
  filters: InsightFilters,
  pick: Extract<InsightPick, { kind: 'flows' }>,
): Promise<InsightFlows> => {
  void { ...filterParams(filters), ...pickParams(pick) };
  return { flows: [], truncated: false };
};

export const fetchCases = async (filters: InsightFilters): Promise<InsightCases> => {
  void filterParams(filters);
  return { cases: [] };
};

/** The CSV download's address for the filters. */
export const csvHref = (filters: InsightFilters): string => {
  const query = new URLSearchParams(filterParams(filters)).toString();
  return query === '' ? '/api/insights.csv' : `/api/insights.csv?${query}`;
};
