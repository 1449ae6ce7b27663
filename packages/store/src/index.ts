// The public API of the data layer: opening and migrating the database, the schema types, and the
// repositories. The caller owns transactions: `store.db.transaction().execute((trx) => …)`.

export {
  getAdmin,
  getAdminPending,
  grantRole,
  insertAdmin,
  type NewAdmin,
  type StoredAdmin,
} from './admin/admin.repository.js';
export type {
  AdminsTable,
  RoleGrantsTable,
} from './admin/admin.table.js';
export { grantStaffRole, hasStaffRole, hasStaffRolePending } from './admin/staff.repository.js';
export { STAFF_ROLES, type StaffRole, type StaffRolesTable } from './admin/staff.table.js';
export {
  type AuditEntry,
  type AuditHead,
  type AuditProblem,
  type AuditVerification,
  appendAudit,
  appendAuditWith,
  auditHash,
  auditHead,
  type CheckpointComparison,
  compareWithCheckpoint,
  GENESIS_HASH,
  listAudit,
  type NewAuditEntry,
  verifyAudit,
} from './audit/audit.repository.js';
export type { AuditLogTable } from './audit/audit.table.js';
export {
  type AuditSigner,
  currentAuditSigner,
  insertAuditSigner,
  lockAuditSigners,
} from './audit/audit-signer.repository.js';
export type { AuditSignersTable } from './audit/audit-signer.table.js';
export { canonicalJson } from './audit/canonical-json.js';
export {
  getCa,
  insertCa,
  listCas,
  type NewCa,
  nextCrlNumber,
  replaceCaCertificate,
  type StoredCa,
} from './ca/ca.repository.js';
export type { CaKeyKind, CaRole, CasTable } from './ca/ca.table.js';
export {
  countStockCards,
  findStockCards,
  getStockCard,
  getStockCardPending,
  holdSealedStockCard,
  insertStockCards,
  listReturningStockCards,
  listStockCards,
  moveStockCard,
  type StockBatch,
  type StoredStockCard,
  unrevokedCertificatesOfCard,
} from './card-stock/card-stock.repository.js';
export { STOCK_PRODUCTS, STOCK_STATES, type StockCardsTable } from './card-stock/card-stock.table.js';
export {
  type BoundCertificate,
  type CertificateQuery,
  type CertificateStatus,
  type CrlEntry,
  certificateStatus,
  certificateStatusPending,
  getCertificate,
  getCertificatePending,
  insertCertificate,
  insertRevocation,
  listCertificates,
  listCertificatesOfCard,
  listCertificatesOfIntent,
  listReserveCardCertificates,
  listRevocations,
  type NewCertificate,
  type NewRevocation,
  type ReserveCardCertificateQuery,
  type Revocation,
  recordBoundCertificates,
  revocationEpoch,
  type StoredCertificate,
} from './certificate/certificate.repository.js';
export {
  type CertificatesTable,
  REVOCATION_REASONS,
  type RevocationReason,
  type RevocationsTable,
} from './certificate/certificate.table.js';
export { getCrl, type PublishedCrl, saveCrl } from './crl/crl.repository.js';
export type { CrlsTable } from './crl/crl.table.js';
export {
  type Database,
  type Dialect,
  migrateToLatest,
  openStore,
  type Store,
  type StoreConfig,
} from './database.js';
export {
  type ExtensionChange,
  getExtension,
  getExtensionOfNewSerial,
  getLiveExtensionOfCard,
  insertExtension,
  listExtensionsOfCard,
  listExtensionsToSettle,
  type NewExtension,
  type StoredExtension,
  updateExtension,
} from './extension/extension.repository.js';
export { EXTENSION_STATES, type ExtensionState, type ExtensionsTable } from './extension/extension.table.js';
export {
  activeFlowForOrder,
  type FlowAgent,
  type FlowCardKeys,
  type FlowChange,
  getFlow,
  insertFlow,
  insertFlowAndAudit,
  type KnownFlowState,
  listDueFlows,
  listFlowsForOrder,
  listFlowsWithPendingEffects,
  type NewFlow,
  recordFlowAgentIfUnknown,
  type StoredFlow,
  timelineFacts,
  UNKNOWN_AGENT_PART,
  updateFlow,
  updateFlowAndAudit,
  updateFlowAndAuditEach,
  updateFlowWith,
} from './flow/flow.repository.js';
export type { FlowsTable } from './flow/flow.table.js';
export { getFlowStationNonce, rotateFlowStationNonce } from './flow/flow-station.repository.js';
export {
  INSIGHT_FIGURES,
  INSIGHT_OUTCOMES,
  type InsightCounts,
  type InsightFigure,
  type InsightFilter,
  type InsightFlow,
  type InsightOutcome,
  type InsightSelection,
  insightCounts,
  insightFlows,
  type LocalTimeSegment,
  type ResolvedCase,
  resolvedCases,
} from './insight/insight.repository.js';
export {
  bindIntent,
  closeIntent,
  getIntent,
  type IntentCursor,
  insertIntents,
  insertIntentsQuery,
  keepIntentsOfFlow,
  keepIntentsOfFlowPending,
  listIntentsOfFlow,
  listUnsettledIntents,
  type NewIssuanceIntent,
  recordIssuedUnderIntent,
  type StoredIssuanceIntent,
  settleIntent,
} from './issuance/issuance-intent.repository.js';
export {
  type IntentOutcome,
  ISSUANCE_PURPOSES,
  type IssuanceIntentsTable,
  type IssuancePurpose,
} from './issuance/issuance-intent.table.js';
export {
  type CardNumberUse,
  cardHolder,
  cardNumberUse,
  cardNumberUsePending,
  getOrder,
  getOrderPending,
  insertOrder,
  listOrdersForRecipient,
  type OrderStateChange,
  type StoredOrder,
  updateOrderState,
  updateOrderStatePending,
} from './order/order.repository.js';
export type { OrdersTable } from './order/order.table.js';
export {
  branchesGeneration,
  listBranches,
  upsertBranches,
} from './organisation/organisation.repository.js';
export type { BranchesGenerationTable, BranchesTable } from './organisation/organisation.table.js';
export { type Pending, pendingAll, pendingRows, pendingValue, runPending } from './pending.js';
export {
  findPersonWithOrders,
  findPersonWithOrdersPending,
  getPersonByHsaId,
  getPersonByHsaIdPending,
  getPersonByPersonalNumber,
  insertPerson,
  listPersonsInBranch,
  type PersonWithOrders,
  type StoredPerson,
} from './person/person.repository.js';
export type { PersonsTable } from './person/person.table.js';
export {
  consumeChallenge,
  consumeChallengePending,
  countChallenges,
  insertChallenge,
  insertChallengeQuery,
  type NewLoginChallenge,
  purgeChallenges,
} from './session/login-challenge.repository.js';
export {
  endSession,
  endSessionsOfRevokedCertificates,
  getSession,
  getSessionWithFlow,
  getSessionWithFlowPending,
  insertSession,
  markLoginCardRemoved,
  type NewSession,
  purgeExpiredSessions,
  type SessionStation,
  type SessionWithFlow,
  type StoredSession,
  touchSession,
} from './session/session.repository.js';
export type { LoginChallengesTable, SessionRole, SessionsTable } from './session/session.table.js';
export {
  activeStationWithKey,
  bindFlowToStation,
  getStation,
  getStationPending,
  getStationRaisingSeq,
  getStationRaisingSeqPending,
  insertStation,
  listStations,
  listUnheldStationCertificates,
  markStationRevoked,
  type NewStation,
  raiseStationSeq,
  renewStation,
  type StoredStation,
  stationOfFlow,
} from './station/station.repository.js';
export { STATION_STATUSES, type StationStatus, type StationsTable } from './station/station.table.js';
export { StoreError, type StoreErrorCode } from './store-error.js';
export {
  addComment,
  type CaseComment,
  getCase,
  insertCase,
  listCases,
  type NewCaseComment,
  type NewSupportCase,
  type StoredSupportCase,
  SUPPORT_CASE_SORTS,
  type SupportCaseChange,
  type SupportCaseQuery,
  type SupportCaseSort,
  type SupportCaseWithComments,
  updateCase,
} from './support/support-case.repository.js';
export {
  type CaseCommentsTable,
  SUPPORT_CASE_STATUSES,
  type SupportCaseStatus,
  type SupportCasesTable,
} from './support/support-case.table.js';
