/**
 * One value per AWS client object, so that transports built on the same client share it.
 *
 * @module
 */

/**
 * One shared value per client object (an outbox per SQS or SNS client), so that all transports
 * using the same client share batches. A value built from non-default options is never shared.
 */
export function sharedPer<K extends object, V>(
  cache: WeakMap<K, V>,
  key: K,
  shareable: boolean,
  create: () => V,
): V {
  if (!shareable) return create();
  let value = cache.get(key);
  if (value === undefined) cache.set(key, value = create());
  return value;
}
