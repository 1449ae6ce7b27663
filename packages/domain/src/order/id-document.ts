/** The ID documents an administrator may record as checked. */
export const ID_DOCUMENTS = [
  'swedish-driving-licence',
  'swedish-passport',
  'sis-id-card',
  'national-id-card',
  'skatteverket-id-card',
  'foreign-passport',
  'other',
] as const;

export type IdDocument = (typeof ID_DOCUMENTS)[number];

/** Documents that identify a person at LoA3 (SPEC glossary). */
export const LOA3_ID_DOCUMENTS: readonly IdDocument[] = [
  'swedish-driving-licence',
  'swedish-passport',
  'sis-id-card',
  'national-id-card',
  'skatteverket-id-card',
];

export const isIdDocument = (value: unknown): value is IdDocument =>
  typeof value === 'string' && (ID_DOCUMENTS as readonly string[]).includes(value);
