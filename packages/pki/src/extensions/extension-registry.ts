// The X.509 library's dependency injection needs the Reflect metadata polyfill loaded first.
import 'reflect-metadata';
import { ExtensionFactory } from '@peculiar/x509';
import { OID } from '../oids.js';
import { CardNumberExtension } from './card-number.extension.js';

let registered = false;

/** Teaches the X.509 parser our own extensions, once, so parsed certificates carry typed objects. */
export const registerExtensions = (): void => {
  if (registered) return;
  ExtensionFactory.register(OID.cardNumber, CardNumberExtension);
  registered = true;
};
