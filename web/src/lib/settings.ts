// The organisation's settings (GET and PATCH /api/v1/admin/settings): a save updates
// the one cached copy every settings screen reads.
import { useQueryClient } from '@tanstack/react-query';
import { $api } from './query';

export function useSettings() {
  return $api.useQuery('get', '/api/v1/admin/settings');
}

export function useSaveSettings() {
  const client = useQueryClient();
  return $api.useMutation('patch', '/api/v1/admin/settings', {
    onSuccess: (data) => client.setQueryData($api.queryOptions('get', '/api/v1/admin/settings').queryKey, data),
  });
}
