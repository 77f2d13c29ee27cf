// Service levels, for admins: the calendars, the policies and a preview, together.
import { Failed } from '../../../components/Failed';
import type { User } from '../../../lib/api';
import { useGroups } from '../../../lib/directory';
import { $api } from '../../../lib/query';
import { Calendars } from './Calendars';
import { Policies } from './Policies';
import { SlaPreview } from './SlaPreview';

/**
 * Business calendars (time zone, open hours per weekday, holidays, and a week view of
 * them), the policies in the order they are matched, and what a new ticket's due times
 * would be under them, computed by the desk's own clocks.
 */
export function Sla({ people }: { people: User[] }) {
  const calendars = $api.useQuery('get', '/api/v1/admin/sla/calendars');
  const policies = $api.useQuery('get', '/api/v1/admin/sla/policies');
  const groups = useGroups();
  const reloadCalendars = calendars.refetch;
  const reloadPolicies = policies.refetch;
  const policyList = policies.data?.items ?? null;
  return (
    <section aria-labelledby="sla-title" className="admin-section sla">
      <h2 id="sla-title">Service levels</h2>
      {calendars.isError && <Failed error={calendars.error} what="calendars" retry={() => void reloadCalendars()} />}
      <Calendars calendars={calendars.data?.items ?? null} onSaved={reloadCalendars} />
      {policies.isError && <Failed error={policies.error} what="policies" retry={() => void reloadPolicies()} />}
      <Policies policies={policyList} calendars={calendars.data?.items ?? []} groups={groups} people={people} onSaved={reloadPolicies} />
      <SlaPreview key={JSON.stringify(policyList)} />
    </section>
  );
}
