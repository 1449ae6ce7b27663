// The X.509 library's dependency injection needs the Reflect metadata polyfill loaded first.
import 'reflect-metadata';
import { Extension } from '@peculiar/x509';
import { fromBER, PrintableString } from 'asn1js';
import { OID } from '../oids.js';

/** The card number extension (1.2.752.34.2.1): the 19-digit number of the card holding the key. */
export class CardNumberExtension extends Extension {
  static override readonly NAME = 'Card Number';
  readonly cardNumber: string;

  constructor(raw: BufferSource);
  constructor(cardNumber: string, critical?: boolean);
  constructor(value: BufferSource | string, critical = false) {
    if (typeof value === 'string') {
      super(OID.cardNumber, critical, new PrintableString({ value }).toBER(false));
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
