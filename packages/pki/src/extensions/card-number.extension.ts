// The X.509 library's dependency injection needs the Reflect metadata polyfill loaded first.
import 'reflect-metadata';
import { Extension } from '@peculiar/x509';
import { fromBER, PrintableString } from 'asn1js';
import { derElement, derExtensionOf, TAG } from '../encoding/der-encoding.js';
import { OID } from '../oids.js';

/** The card number extension (1.2.752.34.2.1): the 19-digit number of the card holding the key. */
export class CardNumberExtension extends Extension {
  static override readonly NAME = 'Card Number';
  readonly cardNumber: string;

  constructor(raw: BufferSource);
  constructor(cardNumber: string, critical?: boolean);
  constructor(value: BufferSource | string, critical = false) {
    if (typeof value === 'string') {
      // From its bytes: the library's (type, critical, value) constructor encodes the extension
      // with the ASN.1 schema and then parses it back.
      super(
        derExtensionOf(
          OID.cardNumber,
          critical,
          derElement(TAG.printableString, Buffer.from(value, 'latin1')),
        ),
      );
      this.cardNumber = value;
    } else {
      super(value);
      this.cardNumber = CardNumberExtension.decode(this.value);
    }
  }

  private static decode(value: ArrayBuffer): string {
    const { result } = fromBER(value);
    return result instanceof PrintableString ? result.valueBlock.value : '';
  }
}
