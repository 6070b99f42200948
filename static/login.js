// login.js: the sign-in page (/login). It posts the token to /api/session,
// which answers {user, role} and sets an HttpOnly cookie, then goes to
// ?next= when that is a path of this site, else to /.

import { $, api, clear, errorBox, rendered } from './app.js';

/** safeNext returns next when it is a same-origin path, else '/'. */
export function safeNext(next) {
  if (!next || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\')) return '/';
  try {
    const u = new URL(next, location.origin);
    if (u.origin !== location.origin || u.pathname.startsWith('/login')) return '/';
    return u.pathname + u.search + u.hash;
  } catch {
    return '/';
  }
}

function main() {
  document.body.dataset.busy = 'false';
  const form = $('login');
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const err = clear($('login-error'));
    const token = $('token').value.trim();
    if (!token) {
      err.append(errorBox(new Error('enter your access token'), 'Token'));
      $('token').focus();
      return;
    }
    $('signin').disabled = true;
    try {
      await api('/api/session', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ token }),
      });
      location.assign(safeNext(new URLSearchParams(location.search).get('next')));
    } catch (ex) {
      err.append(errorBox(ex.status === 401 ? new Error('the token was not accepted') : ex, 'Sign-in failed'));
      $('token').select();
    } finally {
      $('signin').disabled = false;
    }
  });
  $('token').focus();
  rendered();
}

main();
