// What the page says as it goes away (closing the tab, navigating off): keepalive
// requests the browser still delivers after the page is gone. They have no answer to
// wait for, cache or show, so they are the calls that do not go through the query layer.
import { api, type Schemas } from './api';

/** `DELETE path`, sent even while the page unloads. */
export function deleteOnLeave(path: string) {
  void fetch(path, { method: 'DELETE', keepalive: true, credentials: 'same-origin' }).catch(() => undefined);
}

/** One event of a help-center visit (POST /api/v1/portal/{org}/kb/deflection), delivered even as the page goes. */
export function reportDeflection(org: string, body: Schemas['NewDeflectionEvent']) {
  return api
    .POST('/api/v1/portal/{org}/kb/deflection', { params: { path: { org } }, body, keepalive: true })
    .then(() => undefined)
    .catch(() => undefined);
}
