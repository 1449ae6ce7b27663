/** Tillitsnivå. Read from a certificate policy OID by the PKI, never from a name. */
export type AssuranceLevel = 'LoA2' | 'LoA3';

export const ASSURANCE_LEVELS: readonly AssuranceLevel[] = ['LoA2', 'LoA3'];
