// A station's signed statement as request bodies carry it: only its encoding is checked here; what
// it says, who signed it and for what is verifyStatement's.

/** The canonical payload (base64url) and the station's raw P-256 signature over it (base64url). */
export const signedStatementSchema = {
  type: 'object',
  properties: {
    // verifyStatement's bound on a payload, in base64url characters.
    payload: { type: 'string', pattern: '^[A-Za-z0-9_-]+$', minLength: 4, maxLength: 131_072 },
    // 64 bytes are 86 characters; a longer one is refused by the verification, not by the schema.
    signature: { type: 'string', pattern: '^[A-Za-z0-9_-]+$', minLength: 4, maxLength: 200 },
  },
  required: ['payload', 'signature'],
  additionalProperties: false,
} as const;
