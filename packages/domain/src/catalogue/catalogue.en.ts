import type { LanguageCatalogue } from './language-catalogue.js';

/** English, selectable in the UI. Screen titles and buttons translate the Swedish labels. */
export const en: LanguageCatalogue = {
  steps: {
    0: 'Log in with your card',
    1: 'Manage your e-IDs',
    2: 'Search orders',
    3: 'Review the selected order',
    4: 'Hand the card over to the recipient',
    5: 'Accept the terms of your certificate',
    6: 'Download new certificate',
    7: 'Acknowledge card',
  },
  controls: {
    login: 'Log in',
    'manage-orders': 'Manage orders',
    search: 'Search',
    'select-order': 'Select order',
    sign: 'SIGN',
    'logout-restart': 'Log out and start again',
    'confirm-handover': 'CONFIRM HANDOVER',
    'accept-terms': 'I accept the terms',
    'start-download': 'START DOWNLOAD',
    acknowledge: 'ACKNOWLEDGE CARD',
    restart: 'Restart the issuance',
    'send-support-case': 'Send error report',
  },
  cardOwners: {
    'previous-recipient': "the previous recipient's card",
    'own-login-card': 'your own login card',
    'staff-card': "a staff member's own card",
    unknown: 'a card that is not on this order',
  },
  codes: {
    READERS_MISSING: {
      title: 'Two card readers are needed',
      explanation:
        'Card reader {missing} is not connected. With only one reader your administrator card has to come out to make room for the reserve card, and that breaks the issuance.',
      remedy: 'Connect both card readers before you log in and keep them connected throughout the issuance.',
    },
    LOA2_LOGIN: {
      title: 'Logged in with a LoA2 card',
      explanation:
        'You logged in with an assurance level 2 reserve card. Orders for LoA3 reserve cards can only be handled after a login at assurance level 3.',
      remedy: 'Log out and log in again with a LoA3 card, regular or reserve.',
    },
    NO_ROLE_IN_BRANCH: {
      title: 'No hit within your roles',
      explanation:
        "Your roles do not cover the organisation the order belongs to. At least KRA or RA in the person's organisation (or a branch above it) is needed.",
      remedy: 'Ask the administrator who granted your roles for the right role in that organisation.',
    },
    HSA_ID_INCOMPLETE: {
      title: 'Enter the full HSA-id',
      explanation: 'The query looks like part of an HSA-id. The search needs a complete HSA-id.',
      remedy: 'Type the whole HSA-id, for example SE2321000016-abc1, or search by personnummer.',
    },
    PNR_FORMAT: {
      title: 'The personnummer was normalised',
      explanation:
        'The personnummer was typed with a hyphen, a plus sign, spaces or ten digits. It was turned into twelve digits and searched anyway.',
      remedy: 'Nothing to do. Check that the normalised number {normalised} is the right person.',
    },
    NO_ORDER: {
      title: 'No order exists',
      explanation: 'There is no open order for a LoA3 reserve card for this person.',
      remedy:
        'Administrator 1 must first register and sign an order in the admin portal. If the order does exist, send an error report.',
    },
    OWN_ORDER: {
      title: 'You created this order yourself',
      explanation:
        'Issuance needs two different administrators: whoever registered the order may not complete it.',
      remedy: 'Ask another administrator with KRA or RA to log in and complete the issuance.',
    },
    PROTECTED_NEEDS_KUR: {
      title: 'No hit you can handle',
      explanation:
        'The search found nothing that your roles let you see or handle. For confidentiality, the reason is not shown.',
      remedy:
        'Check the search. If the issuance must still be done, ask an administrator with wider rights (for example the KUR add-on role) to search instead.',
    },
    NOT_ELIGIBLE: {
      title: 'This person cannot get a LoA3 reserve card',
      explanation:
        'LoA3 reserve cards need a Swedish personnummer. The person has a samordningsnummer or is identified by a foreign passport only.',
      remedy: 'Do not issue a LoA3 reserve card; refer the person to the regular e-ID issuance.',
    },
    ORDER_EXPIRED: {
      title: 'The order has expired',
      explanation: 'The validity of the order has passed.',
      remedy: 'Administrator 1 registers a new order in the admin portal.',
    },
    ORDER_USED: {
      title: 'The order has already been used',
      explanation: 'A reserve card has already been issued and acknowledged on this order.',
      remedy: 'If another reserve card is needed, administrator 1 registers a new order.',
    },
    CARD_REINSERTED: {
      title: 'Your card was removed',
      explanation:
        'The card you logged in with left its reader at {removedAt}. The session may no longer sign, even if the card is put back.',
      remedy: 'Log out and start again. Keep your card in its reader for the whole issuance.',
    },
    SIGN_FAILED: {
      title: 'Signing failed',
      explanation: 'The order could not be signed with your card (attempt {attempt}).',
      remedy: 'Try signing once more. If it fails again, restart the issuance and send an error report.',
    },
    WRONG_CARD: {
      title: 'Wrong reserve card in the reader',
      explanation:
        'The card in the reader is {owner}, with card number {actual}, but the order is for card number {expected}.',
      remedy: 'Take the card out and insert the reserve card with card number {expected}.',
    },
    ONE_READER_USED: {
      title: 'Two card readers were not used throughout',
      explanation:
        'The reader log shows a card reader was disconnected during the issuance. Handover and download cannot then be completed safely.',
      remedy: 'Restart the issuance with two card readers connected all the time.',
    },
    HANDOVER_STUCK: {
      title: 'The handover did not go on',
      explanation:
        'CONFIRM HANDOVER was clicked but the card agent did not answer. The reader log and the agent’s events have been kept.',
      remedy:
        'Restart the issuance. If it happens again, send an error report: everything the service desk needs is attached.',
    },
    DOWNLOAD_START_STUCK: {
      title: 'The download did not start',
      explanation:
        'START DOWNLOAD was clicked but the card agent did not begin generating keys. The reader log and the agent’s events have been kept.',
      remedy: 'Restart the issuance. If it happens again, send an error report.',
    },
    CARD_REMOVED_DURING_DOWNLOAD: {
      title: 'The reserve card was removed during the download',
      explanation:
        'The card was removed while keys were generated or certificates written. Anything already issued has been revoked and the card cleaned so it can be used again.',
      remedy: 'Restart the issuance and leave the reserve card in until the certificates are written.',
    },
    AUTH_DIALOG_NOT_SHOWN: {
      title: 'The authentication dialog was not shown',
      explanation:
        'The card agent should have asked for PIN 1 (authentication) but the dialog never appeared.',
      remedy: 'Restart the issuance. If the dialog does not appear then either, send an error report.',
    },
    SIGN_DIALOG_NOT_SHOWN: {
      title: 'The signature dialog was not shown',
      explanation: 'The card agent should have asked for PIN 2 (signature) but the dialog never appeared.',
      remedy: 'Restart the issuance. If the dialog does not appear then either, send an error report.',
    },
    DOWNLOAD_FAILED: {
      title: 'Downloading the certificates failed',
      explanation:
        'The certificates could not be written to the card ({reason}). Anything already issued has been revoked.',
      remedy: 'Restart the issuance. If it fails again, send an error report.',
    },
    ACK_TIMEOUT: {
      title: 'The card was not acknowledged in time',
      explanation:
        'The time to acknowledge the card ran out at {deadline}. Both certificates on the card have been revoked.',
      remedy:
        'Restart the issuance to get new certificates, and acknowledge the card before the time runs out.',
    },
    PNR_INVALID: {
      title: 'Not a personnummer',
      explanation: 'A personnummer has ten or twelve digits, for example 19800101-9804.',
      remedy: 'Check the number and type it again.',
    },
    PNR_CHECK_DIGIT: {
      title: 'Wrong check digit in the personnummer',
      explanation:
        'The last digit of the personnummer does not match the others. A digit is probably mistyped.',
      remedy: 'Compare the number with the ID document and type it again.',
    },
    PNR_DATE: {
      title: 'Invalid date in the personnummer',
      explanation: 'The personnummer contains a date that does not exist or lies in the future.',
      remedy: 'Compare the number with the ID document and type it again.',
    },
    HSA_ID_INVALID: {
      title: 'Invalid HSA-id',
      explanation:
        'An HSA-id is SE, an organisation number, a hyphen and a local part, at most 31 characters.',
      remedy: 'Type the HSA-id in the form SE2321000016-abc1.',
    },
    CARD_NUMBER_INVALID: {
      title: 'Invalid card number',
      explanation: 'A card number has 19 digits and starts with 9752.',
      remedy: 'Copy the card number from the card, for example 9752 2789 0000 0000 000.',
    },
    QUERY_INVALID: {
      title: 'The query could not be understood',
      explanation: 'Search by personnummer or by a complete HSA-id.',
      remedy: 'Type for example 19800101-9804 or SE2321000016-abc1.',
    },
    DATE_INVALID: {
      title: 'Invalid date',
      explanation: 'The date does not exist or is not in the expected form.',
      remedy: 'Type the date as YYYY-MM-DD.',
    },
    ORGANISATION_INVALID: {
      title: 'The organisation tree is invalid',
      explanation: 'The branches do not form a tree ({reason}).',
      remedy: 'Correct the organisation data and import it again.',
    },
    BRANCH_UNKNOWN: {
      title: 'Unknown organisation',
      explanation: 'The organisation is not in the directory.',
      remedy: 'Check the directory or contact the service desk.',
    },
    RECIPIENT_UNDERAGE: {
      title: 'The person is under 18',
      explanation: 'LoA3 reserve cards are only issued to persons aged 18 or older.',
      remedy: 'Do not issue a LoA3 reserve card.',
    },
    ID_DOCUMENT_NOT_LOA3: {
      title: 'The ID document is not enough for LoA3',
      explanation:
        "Accepted ID documents are a Swedish driving licence, a Swedish passport, a SIS-marked ID card, a national ID card and Skatteverket's ID card.",
      remedy: 'Check an accepted ID document and record it.',
    },
    CARD_NUMBER_TAKEN: {
      title: 'The card number belongs to someone else',
      explanation:
        'A reserve card with this card number has already been ordered for or issued to another person.',
      remedy: 'Use another, unused reserve card and enter its card number.',
    },
    VALIDITY_INVALID: {
      title: 'Invalid validity',
      explanation: 'The validity must start now or later and end after it starts.',
      remedy: 'Enter a validity that starts today or later.',
    },
    VALIDITY_TOO_LONG: {
      title: 'Validity too long',
      explanation: 'The reserve card may be valid for at most {maxDays} days.',
      remedy: 'Shorten the validity to at most {maxDays} days.',
    },
    ORDER_NOT_SIGNED: {
      title: 'The order is not signed',
      explanation: 'The order must be signed with the card of the administrator who registers it.',
      remedy: 'Sign the order with your card.',
    },
    ORDER_CANCELLED: {
      title: 'The order has been cancelled',
      explanation: 'The order was cancelled in the admin portal.',
      remedy: 'Administrator 1 registers a new order if a reserve card is still needed.',
    },
    ORDER_STATE_CONFLICT: {
      title: 'The order is already being handled',
      explanation:
        'The order is being handled in another issuance, or changed while you were working, so this cannot be done now.',
      remedy:
        'Reload the page. If another issuance of the same order is under way, wait until it is finished.',
    },
    CARD_ALREADY_ISSUED: {
      title: 'The reserve card was already issued to this person',
      explanation:
        'A reserve card with this card number has already been issued to and acknowledged by this person. A card is not issued twice.',
      remedy:
        'To extend the card’s validity, the person does it on Mina sidor with the card itself. If a new card is needed, use an unused reserve card.',
    },
    CARD_ALREADY_ORDERED: {
      title: 'The card number is already ordered for this person',
      explanation: 'There is already an open order for this card number for this person.',
      remedy: 'Use that order. If it is wrong, cancel it first and then register a new one.',
    },
    NOT_LOGGED_IN: {
      title: 'Not logged in',
      explanation: 'You need to log in with your card.',
      remedy: 'Insert your card in card reader 1 and log in.',
    },
    RESERVE_CARD_MISSING: {
      title: 'No reserve card in the reader',
      explanation: 'There is no card in card reader {reader}.',
      remedy: 'Ask the recipient to insert the reserve card in card reader {reader}.',
    },
    TERMS_NOT_ACCEPTED: {
      title: 'The terms are not accepted',
      explanation: 'The recipient must accept the terms of the certificate before the download.',
      remedy: 'Read the terms and tick that you accept them.',
    },
    ACTION_PENDING: {
      title: 'Waiting for the card agent',
      explanation: 'The card agent is working on the previous step.',
      remedy: 'Wait a few seconds. If nothing happens, an error message will say what to do next.',
    },
    PIN_DIALOG_CANCELLED: {
      title: 'The PIN dialog was cancelled',
      explanation: 'The PIN dialog was closed without a PIN. Anything already issued has been revoked.',
      remedy: "Restart the issuance and enter the PIN from the reserve card's envelope.",
    },
    EVENT_OUT_OF_ORDER: {
      title: 'This action does not fit this step',
      explanation: 'The page and the server are not at the same step.',
      remedy: 'Reload the page to see where the issuance is.',
    },
    FLOW_ENDED: {
      title: 'The issuance has ended',
      explanation: 'This issuance has already ended ({status}).',
      remedy: 'Start a new issuance if needed.',
    },
    CERTIFICATES_ALREADY_REQUESTED: {
      title: 'The certificates have already been requested',
      explanation:
        'This issuance has already asked for its certificates once (perhaps from another window or a repeated click); a card gets its certificates only once per issuance.',
      remedy: 'Wait for the download on the screen to finish. If it does not, restart the issuance.',
    },
    TEXT_TOO_LONG: {
      title: 'The text is too long',
      explanation: 'The text may be at most {max} characters.',
      remedy: 'Shorten the text and try again.',
    },
    STOCK_LINE_INVALID: {
      title: 'A line of the batch cannot be read',
      explanation:
        "Line {line} of the card bureau's batch lacks a valid card number, a known card product (473 or 573) or a real date of manufacture, or its physical expiry does not follow the rule: a 473 lasts 4 years and a 573 lasts 5 years from manufacture. No line of the batch was registered.",
      remedy: 'Correct the line, or ask the card bureau for a new file, and import the whole batch again.',
    },
    CARD_ALREADY_IN_STOCK: {
      title: 'The card is already in stock',
      explanation:
        'The card with card number {cardNumber} (line {line}) is already registered to a card station. No line of the batch was registered.',
      remedy:
        'Remove the line from the batch and import it again. Check with the card bureau whether the batch was imported before.',
    },
    CARD_NOT_IN_STOCK: {
      title: 'The card is not in stock',
      explanation: "The card with card number {cardNumber} is not in any card station's stock.",
      remedy:
        "Pick a card from the card station's stock, or check the card number against the card. A new card must be imported with its batch first.",
    },
    CARD_AT_OTHER_STATION: {
      title: 'The card belongs to another card station',
      explanation: 'The card with card number {cardNumber} is registered to another card station than yours.',
      remedy: "Pick a card from your card station's stock.",
    },
    CARD_PAST_PHYSICAL_EXPIRY: {
      title: 'The card is past its physical expiry',
      explanation:
        "The card can only be used until {physicalExpiry} inclusive and does not last for the certificates' validity.",
      remedy: 'Use another card from stock. This card is to be destroyed.',
    },
    CARD_ALREADY_GIVEN: {
      title: 'The card has already been given out',
      explanation:
        'The card with card number {cardNumber} has already been given to a person. A reserve card is only ever given to one person.',
      remedy: "Pick a sealed card from the card station's stock.",
    },
    CARD_DESTROYED: {
      title: 'The card has been destroyed',
      explanation: 'The card with card number {cardNumber} has been destroyed and can never be used again.',
      remedy: 'Use another card from stock.',
    },
    CARD_STOCK_CONFLICT: {
      title: 'The card is not in a state for this action',
      explanation:
        'The card with card number {cardNumber} cannot change like this: a sealed card is given out or destroyed, a card given out is returned, and a returned card is destroyed.',
      remedy: "Reload the page to see the card's state now.",
    },
    EXTENSION_ALREADY_USED: {
      title: 'The card has already been extended',
      explanation: 'A reserve card can be extended once. This card was extended on {extendedOn}.',
      remedy: 'If you need a reserve card for longer, ask your ID administrator for a new reserve card.',
    },
    EXTENSION_TOO_LATE: {
      title: 'The certificates have already expired',
      explanation: 'An extension must be made before the certificates expire. They expired on {expiredOn}.',
      remedy: 'Ask your ID administrator for a new reserve card.',
    },
    EXTENSION_CARD_REVOKED: {
      title: 'The card is revoked',
      explanation: "The card's e-ID is revoked and cannot be extended.",
      remedy: 'Ask your ID administrator for a new reserve card, and return the revoked card.',
    },
    REVOCATION_NOT_PERMITTED: {
      title: 'You cannot revoke this e-ID',
      explanation:
        "A card holder can revoke their own e-ID. Other people's are revoked by an ID administrator with a role in the person's organisation, or by the service desk.",
      remedy: 'Contact an ID administrator or the service desk.',
    },
    REVOCATION_REASON_NOT_OFFERED: {
      title: 'The reason cannot be chosen here',
      explanation:
        'The revocation reason is not among those you can choose. The card holder chooses between lost card, suspected misuse and damaged card; administrators and the service desk can also choose that the card is no longer needed, is locked, or that the person has left the organisation.',
      remedy: 'Choose one of the reasons in the list.',
    },
    NOT_A_RESERVE_CARD: {
      title: 'The card is not a reserve card',
      explanation:
        'My pages open only with a reserve card issued here, with an e-ID at assurance level 3. The card in card reader 1 is another card, such as an administrator’s card or an ordinary card.',
      remedy:
        'Insert your reserve card in card reader 1 and log in again. ID administrators log in on the login page for ID administrators.',
    },
    CSR_INVALID: {
      title: 'The certificate request could not be read',
      explanation: 'What was sent is not a valid PKCS#10 certificate request ({reason}).',
      remedy: 'Restart the download so that the card agent makes a new request.',
    },
    CSR_SIGNATURE_INVALID: {
      title: 'The certificate request signature does not verify',
      explanation:
        'The request is not signed with the key it carries, so possession of the key is not proven.',
      remedy: 'Restart the download. If it happens again, send an error report.',
    },
    KEY_NOT_ALLOWED: {
      title: 'The key type is not allowed',
      explanation:
        'The key in the request ({key}) is not allowed here. Allowed: {allowed}. A card key must be of the type its CA is set to.',
      remedy:
        'Use a card that generates an allowed key, or ask the CA operator which key type the CA is set to.',
    },
    CA_NOT_INITIALISED: {
      title: 'The CA has not been created',
      explanation: 'There is no issuer ({ca}) in the database.',
      remedy: 'Run reservkort ca init.',
    },
    CA_ALREADY_INITIALISED: {
      title: 'The CA already exists',
      explanation: 'The root CA and the issuing CAs have already been created.',
      remedy: 'Use reservkort ca show to see them.',
    },
    CA_KEY_UNAVAILABLE: {
      title: 'The CA key could not be opened',
      explanation: 'The key of {ca} could not be opened ({reason}).',
      remedy: 'Check the passphrase or the PKCS#11 token and PIN, and contact the service desk.',
    },
    CERTIFICATE_NOT_FOUND: {
      title: 'No such certificate',
      explanation: 'No certificate with serial number {serial} was issued here.',
      remedy: 'Check the serial number with reservkort cert list.',
    },
    ALREADY_REVOKED: {
      title: 'The certificate is already revoked',
      explanation: 'Certificate {serial} was revoked before.',
      remedy: 'Nothing to do.',
    },
    REVOCATION_REASON_INVALID: {
      title: 'Unknown revocation reason',
      explanation: 'The revocation reason {reason} is not one of RFC 5280.',
      remedy:
        'Choose one of: unspecified, keyCompromise, affiliationChanged, superseded, cessationOfOperation, privilegeWithdrawn.',
    },
    READER_NOT_FOUND: {
      title: 'No such card reader',
      explanation: 'The card agent finds no card reader {reader}.',
      remedy: 'Check that the card reader is connected and choose it again.',
    },
    CARD_MISSING: {
      title: 'No card in the reader',
      explanation: 'There is no card in card reader {reader}.',
      remedy: 'Insert the card and try again.',
    },
    CARD_REMOVED: {
      title: 'The card was removed',
      explanation: 'The card left the reader while it was in use, or after the page was connected to it.',
      remedy: 'Put the card back and start the action again.',
    },
    PIN_INCORRECT: {
      title: 'Wrong PIN',
      explanation: 'The PIN is not right. {triesLeft} tries are left before it is blocked.',
      remedy: 'Enter the PIN again. It is in the envelope that came with the card.',
    },
    PIN_BLOCKED: {
      title: 'The PIN is blocked',
      explanation:
        "The PIN was entered wrongly three times and is now blocked. The card cannot be used, for login, signing or issuance, until the PIN is unblocked with the PUK from the card's PIN letter. The portal does not ask for this card's PIN again.",
      remedy:
        "Unblock the PIN with the PUK from the card's PIN letter: put the card in reader 1, open Card and PINs (also offered on the login page, no login needed) and choose to unblock the PIN with the PUK. Without the PIN letter, put the card aside and send an error report. Then restart the issuance with the unblocked card, or use another card.",
    },
    PIN_FORMAT: {
      title: 'The PIN has the wrong form',
      explanation: 'A PIN has 4–8 digits and a PUK 8 digits.',
      remedy: 'Type the code using digits only.',
    },
    PUK_INCORRECT: {
      title: 'Wrong PUK',
      explanation: 'The PUK is not right. {triesLeft} tries are left before the card is locked for good.',
      remedy: 'Enter the PUK from the envelope again.',
    },
    CARD_LOCKED: {
      title: 'The card is locked for good',
      explanation:
        'The PUK was entered wrongly more than ten times in a row, and the card has locked itself for good. It cannot be used again, not even with the right PUK.',
      remedy:
        "The card's e-ID is to be revoked (reason: card locked for good) and the card destroyed: hand it to an ID-administrator, who revokes the e-ID and records the card as destroyed. Use another card in the meantime, and send an error report if you need help.",
    },
    KEY_MISSING: {
      title: 'The key is missing from the card',
      explanation: 'The card has no {key} key.',
      remedy: 'The card needs keys from the issuance first.',
    },
    CARD_ERROR: {
      title: 'The card answered with an error',
      explanation: 'The card or the reader reported an error ({reason}).',
      remedy: 'Take the card out, insert it again and retry. Send an error report if it persists.',
    },
    ORIGIN_FORBIDDEN: {
      title: 'This page may not use the card agent',
      explanation: 'The card agent only answers the portal it is set up for.',
      remedy: 'Open the portal from its real address.',
    },
    SESSION_INVALID: {
      title: 'The connection to the card agent has expired',
      explanation: "The page's connection to the card agent is no longer valid.",
      remedy: 'Reload the page.',
    },
    DIALOG_CANCELLED: {
      title: 'The PIN dialog was cancelled',
      explanation: 'The PIN dialog was closed without a PIN.',
      remedy: 'Try again and enter the PIN.',
    },
    DIALOG_TIMEOUT: {
      title: 'The PIN dialog was not answered',
      explanation: 'No PIN was entered in time, or the PIN dialog never appeared.',
      remedy: 'Try again. If no PIN dialog appears, check that pop-up windows are allowed for the portal.',
    },
    REQUEST_INVALID: {
      title: 'The request is malformed',
      explanation: 'The request lacks information or carries the wrong kind ({reason}).',
      remedy: 'Reload the page and try again. If it happens again, send an error report.',
    },
    STATION_NOT_REGISTERED: {
      title: 'This card station is not registered',
      explanation:
        'The card agent on this computer has no valid station certificate, so the server cannot trust what it reports about readers and cards.',
      remedy: 'Ask an administrator with a role in your branch to register the card station, then try again.',
    },
    STATION_KEY_UNAVAILABLE: {
      title: "The card station's key cannot be used",
      explanation: 'The card agent cannot reach the key that identifies this card station ({reason}).',
      remedy:
        "Check that the station's token is connected and that the agent has its PIN. If the key has moved, register the card station again.",
    },
    LOGIN_FAILED: {
      title: 'Login failed',
      explanation: 'The card could not be used to log in ({reason}).',
      remedy: 'Check that you use your own, valid card and try again.',
    },
    CSRF_INVALID: {
      title: 'The request did not come from the portal',
      explanation: 'The security check for changes is missing or wrong.',
      remedy: 'Reload the page and do it again.',
    },
    ACCESS_DENIED: {
      title: 'You are not allowed to do this',
      explanation: 'Your login does not give the right to this action ({reason}).',
      remedy: 'Log in with the right card, or ask whoever grants roles.',
    },
    NOT_FOUND: {
      title: 'Not found',
      explanation: 'What you asked for does not exist ({what}).',
      remedy: 'Check and try again.',
    },
    SIGNATURE_INVALID: {
      title: 'The signature does not verify',
      explanation: "The signature could not be verified with the card's certificate ({reason}).",
      remedy: 'Sign again with the right card.',
    },
    PERSON_NOT_FOUND: {
      title: 'No hit within your roles',
      explanation:
        "No person you may order reserve cards for matches the search: either there is no such person, or your roles (KRA or RA, and KUR for a protected identity) do not cover the person's organisation.",
      remedy:
        'Check the personnummer or HSA-id. If it is right, ask the administrator who grants roles for a role in the person’s organisation.',
    },
    LOGIN_CERTIFICATE_REVOKED: {
      title: 'Your login card is revoked',
      explanation: 'The certificate you logged in with has been revoked, so your session has ended.',
      remedy:
        'Log in with a card whose certificate is valid. If you do not know why the card was revoked, contact the service desk.',
    },
    CSR_SAME_KEY: {
      title: 'One key for both certificates',
      explanation:
        'The authentication certificate and the signature certificate were requested for the same key. Each must have its own key on the card; nothing was issued.',
      remedy:
        'Restart the issuance so that the card makes two new keys. If it happens again, send an error report.',
    },
    RATE_LIMITED: {
      title: 'Too many attempts',
      explanation:
        'The server has had too many such requests from your computer or network in a short time ({retryAfterSeconds} seconds left).',
      remedy: 'Wait {retryAfterSeconds} seconds and try again. If it happens often, contact the operators.',
    },
    OPERATIONS_TOKEN_REQUIRED: {
      title: 'The operations page needs authorisation',
      explanation:
        'Metrics and the API documentation are shown to the operators’ monitoring only ({reason}).',
      remedy:
        'Send the operations token as "Authorization: Bearer …", or ask the operators where the page is served.',
    },
    AUDIT_CHECKPOINT_INVALID: {
      title: 'The audit checkpoint is not valid',
      explanation: 'The checkpoint {file} could not be verified: {reason}.',
      remedy:
        'Use the checkpoint file exactly as it was written, from the copy kept outside the server, and check it against the root CA certificate.',
    },
    AUDIT_LOG_TAMPERED: {
      title: 'The audit log disagrees with its checkpoint',
      explanation:
        'At entry {seq} the audit log does not hold what the signed checkpoint {file} records ({problem}): entries were deleted or rewritten.',
      remedy:
        'Stop and investigate: restore the database from a backup that matches the checkpoint, and find out who could change it. No new checkpoint is signed until then.',
    },
    AUDIT_CHECKPOINT_UNAVAILABLE: {
      title: 'No audit checkpoint yet',
      explanation: 'This server has not published an audit checkpoint ({reason}).',
      remedy:
        'Try again later. If it persists, see the server log: publishing may have found the audit log altered.',
    },
    STATION_REVOKED: {
      title: 'The card station is revoked',
      explanation:
        "The card station's certificate is revoked or has expired ({reason}), so the server accepts nothing the station reports.",
      remedy:
        'Register the card station again if it is to be used. If you do not know why it was revoked, contact the service desk: the station key may have been stolen.',
    },
    STATEMENT_INVALID: {
      title: 'The card station’s statement was refused',
      explanation:
        'A statement from the card station was not correctly signed or did not belong to this step ({reason}). It may have been altered, replayed or moved from another flow.',
      remedy: 'Do the step again. If it happens again, restart the card agent and send an error report.',
    },
    CARD_NOT_PROVEN: {
      title: 'The card did not prove itself',
      explanation:
        'The card in the reader could not prove with the card bureau’s key that it is a genuine card with the card number of this step ({reason}). The server accepts only a card whose certificate the card bureau issued and which signs the server’s challenge itself; a counterfeit card, or one the card bureau never initialised, cannot.',
      remedy:
        'Check that the reserve card the order names is in reader 2 and restart the issuance. If it happens again with the right card, the card does not come from the card bureau: do not hand it out, set it aside and send an error report. Take another reserve card from stock; admin 1 cancels the order and registers a new one with that card’s number.',
    },
    KEYS_NOT_ON_CARD: {
      title: 'The keys are not proven to be on the card',
      explanation:
        'The card reported that the keys were not generated on it or can leave it, or the certificate requests were for other keys than those the card and the card station vouched for in this step ({reason}). A working card generates its keys in the chip and never lets them out, so no certificate was issued.',
      remedy:
        'Restart the issuance with the reserve card in reader 2. If it happens again, the card is faulty or no real smart card: do not hand it out, set it aside and send an error report. Take another reserve card from stock; admin 1 cancels the order and registers a new one with that card’s number.',
    },
    EXTENSION_KEYS_NOT_PROVEN: {
      title: 'The card did not prove the new keys',
      explanation:
        'Before new certificates are issued, the reserve card must sign, with its own card key, that the two new keys were made on it for this very extension. That proof was missing or did not hold, so nothing was issued and your current e-ID is unchanged.',
      remedy:
        'Keep the reserve card in the reader and try again. If it happens again, contact your ID administrator and give the error code.',
    },
    EXTENSION_ABANDONED: {
      title: 'The extension was not completed',
      explanation:
        'The extension was not acknowledged in time, or was interrupted before it was finished. New certificates that had been issued for it are revoked and the card has not been extended. An extension that was not finished does not count as the card’s one extension.',
      remedy:
        'Start a new extension from your pages. If the card no longer works to log in, contact your ID administrator.',
    },
    INSIGHT_FILTER_INVALID: {
      title: 'The selection cannot be used',
      explanation:
        'The selection for the insights is invalid ({field}: {reason}). The period is given as YYYY-MM-DD, from before to, at most one year; the organisation and card station must be ones you have a role for.',
      remedy: 'Change the selection and try again.',
    },
  },
};
