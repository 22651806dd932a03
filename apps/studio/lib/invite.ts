/** The access token of an invite link (`?invite=`), or an error a person can act on. */
export function inviteFromUrl(what: 'camera' | 'viewer'): string {
  const token = new URLSearchParams(window.location.search).get('invite');
  if (token) return token;
  throw new Error(
    what === 'camera'
      ? 'This link has no camera invite: ask the director for a camera link (control room → New camera invite).'
      : 'This link has no viewer invite: ask the director for a viewer link (control room → New viewer link).',
  );
}
