import type { UserView, WorkspaceView } from "../platform/contracts.ts";
import { MIN_PASSWORD_LENGTH } from "../platform/passwords.ts";
import { html, page } from "./html.ts";

const errorBox = (error: string | undefined) =>
  error ? html`<p class="error" role="alert" id="form-error">${error}</p>` : "";

/**
 * The sign-in form; `workspaces` appears when the email belongs to several of them, and
 * `next` (a path on this site) is where signing in leads.
 */
export function loginPage(
  input: { error?: string; email?: string; workspaces?: string[]; next?: string } = {},
): string {
  const described = input.error ? html` aria-describedby="form-error"` : "";
  const choose = input.workspaces?.length
    ? html`<label for="workspace">Workspace</label>
<select id="workspace" name="workspace" required>${input.workspaces.map(
        (slug) => html`<option value="${slug}">${slug}</option>`,
      )}</select>`
    : "";
  return page({
    title: "Sign in",
    body: html`<div class="card"><h1>Sign in to Rapport</h1>${errorBox(input.error)}
<form method="post" action="/login"${described}>
<label for="email">Email</label>
<input id="email" name="email" type="email" autocomplete="username" required value="${input.email ?? ""}">
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
${choose}
${input.next ? html`<input type="hidden" name="next" value="${input.next}">` : ""}
<button type="submit">Sign in</button>
</form></div>`,
  });
}

/** The form behind an invitation link: choose a name and a password. */
export function invitePage(input: { token: string; error?: string; name?: string }): string {
  return page({
    title: "Join your team",
    body: html`<div class="card"><h1>Join your team on Rapport</h1>${errorBox(input.error)}
<form method="post" action="/invite">
<input type="hidden" name="token" value="${input.token}">
<label for="name">Your name</label>
<input id="name" name="name" autocomplete="name" required maxlength="200" value="${input.name ?? ""}">
<label for="password">Choose a password</label>
<input id="password" name="password" type="password" autocomplete="new-password" required minlength="${MIN_PASSWORD_LENGTH}" aria-describedby="password-hint">
<p class="hint" id="password-hint">At least ${MIN_PASSWORD_LENGTH} characters; a few unrelated words make a good one.</p>
<button type="submit">Join</button>
</form></div>`,
  });
}

/** The home page: who is signed in where, or a way to sign in. */
export function homePage(signedIn: { user: UserView; workspace: WorkspaceView } | undefined): string {
  if (!signedIn) {
    return page({
      title: "Rapport",
      body: html`<div class="card"><h1>Rapport</h1><p>You are not signed in.</p>
<p><a href="/login">Sign in</a></p></div>`,
    });
  }
  const { user, workspace } = signedIn;
  return page({
    title: workspace.name,
    body: html`<div class="card"><h1>${workspace.name}</h1>
<dl>
<dt>Signed in as</dt><dd>${user.name || user.email}${user.name ? html` (${user.email})` : ""}</dd>
<dt>Role</dt><dd>${user.role}</dd>
<dt>Workspace</dt><dd>${workspace.slug}</dd>
</dl>
<p><a href="/inbox/">Open the inbox</a></p>
<p><a href="/api/docs">API documentation</a></p>
<form method="post" action="/logout"><button type="submit" class="secondary">Sign out</button></form>
</div>`,
  });
}
