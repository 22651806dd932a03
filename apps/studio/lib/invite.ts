/** The access token of an invite link (`?invite=`), or an error a person can act on. */
export function inviteFromUrl(what: 'camera' | 'viewer' | 'guest'): string {
  const token = new URLSearchParams(window.location.search).get('invite');
  if (token) return token;
  const ask = {
    camera:
      'This link has no camera invite: ask the director for a camera link (control room → New camera invite).',
    viewer:
      'This link has no viewer invite: ask the director for a viewer link (control room → New viewer link).',
    guest:
      'This link has no guest invite: ask the director for a guest link (control room → New guest invite).',
  } as const;
  throw new Error(ask[what]);
}
