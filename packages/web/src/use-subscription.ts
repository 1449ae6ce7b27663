import { useSyncExternalStore } from 'react';

interface Subscribable {
  subscribe(listener: () => void): () => void;
}

const versions = new WeakMap<Subscribable, number>();

/**
 * Re-renders when a mutable model (workstation, issuance driver) says it changed. The models keep
 * their own state; React only needs to know when to look again.
 */
export const useSubscription = (model: Subscribable | null): number =>
  useSyncExternalStore(
    (listener) =>
      model === null
        ? () => undefined
        : model.subscribe(() => {
            versions.set(model, (versions.get(model) ?? 0) + 1);
            listener();
          }),
    () => (model === null ? 0 : (versions.get(model) ?? 0)),
  );
