// A tiny typed event emitter: `on` returns its own unsubscribe function, and a listener
// that throws is logged by the caller's choice, never allowed to break the Ready loop.

type Listener<T> = (payload: T) => void;

export class Listeners<Events extends object> {
  private readonly sets = new Map<keyof Events, Set<Listener<never>>>();

  on<K extends keyof Events>(event: K, listener: Listener<Events[K]>): () => void {
    let set = this.sets.get(event);
    if (!set) {
      set = new Set();
      this.sets.set(event, set);
    }
    set.add(listener as Listener<never>);
    return () => {
      set.delete(listener as Listener<never>);
    };
  }

  count<K extends keyof Events>(event: K): number {
    return this.sets.get(event)?.size ?? 0;
  }

  emit<K extends keyof Events>(event: K, payload: Events[K]): void {
    const set = this.sets.get(event);
    if (!set || set.size === 0) return;
    for (const listener of [...set]) {
      try {
        (listener as Listener<Events[K]>)(payload);
      } catch {
        // A listener's failure is its own; the driver keeps going.
      }
    }
  }
}
