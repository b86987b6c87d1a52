// Logging in to the test bed's hub without a browser, as a user of its Keycloak: an HTTP
// client with a cookie jar per user, through Keycloak's own login form; and Keycloak's
// admin API, to create users. Shared by the load benchmark and `npm run bench`.
import * as http from "node:http";
import * as https from "node:https";
import { HUB, hubTls, testbed } from "../tests/testbed";

const kc = testbed.keycloak;
const HUB_HOST = testbed.hub.host;
const TOKEN_SECONDS = 6 * 3600;

export interface Reply {
    status: number;
    headers: http.IncomingHttpHeaders;
    body: string;
}

/** Cookies per host name. Paths and flags are ignored: each host here keeps its cookies on one path tree. */
export class CookieJar {
    private readonly hosts = new Map<string, Map<string, string>>();

    store(host: string, setCookie: string[] | undefined): void {
        for (const line of setCookie ?? []) {
            const [pair, ...attrs] = line.split(";");
            const eq = pair.indexOf("=");
            if (eq <= 0) continue;
            const name = pair.slice(0, eq).trim();
            const expired = attrs.some((a) => {
                const i = a.indexOf("=");
                const key = (i < 0 ? a : a.slice(0, i)).trim().toLowerCase();
                const value = i < 0 ? "" : a.slice(i + 1).trim();
                return (key === "max-age" && Number(value) <= 0) || (key === "expires" && Date.parse(value) < Date.now());
            });
            const jar = this.hosts.get(host) ?? new Map<string, string>();
            this.hosts.set(host, jar);
            if (expired) jar.delete(name);
            else jar.set(name, pair.slice(eq + 1).trim());
        }
    }

    get(host: string, name: string): string | undefined {
        return this.hosts.get(host)?.get(name);
    }

    header(host: string): string | undefined {
        const jar = this.hosts.get(host);
        return jar && jar.size > 0 ? [...jar].map(([k, v]) => `${k}=${v}`).join("; ") : undefined;
    }
}

// Only the test bed's names, each resolved to 127.0.0.1: nothing leaves this machine.
const HOSTS = new Set([HUB_HOST, kc.host, "127.0.0.1"]);

export function request(
    url: string,
    opts: { method?: string; headers?: Record<string, string>; json?: unknown; form?: Record<string, string>; jar?: CookieJar; token?: string; timeoutMs?: number } = {},
): Promise<Reply> {
    const u = new URL(url);
    if (!HOSTS.has(u.hostname)) return Promise.reject(new Error(`refusing a request to ${u.host}: this benchmark talks to the test bed on 127.0.0.1 only`));
    const method = opts.method ?? "GET";
    const headers: Record<string, string> = { ...opts.headers };
    const cookie = opts.jar?.header(u.hostname);
    if (cookie) headers.Cookie = cookie;
    if (opts.token) headers.Authorization = `token ${opts.token}`;
    let body: string | undefined;
    if (opts.json !== undefined) {
        body = JSON.stringify(opts.json);
        headers["Content-Type"] = "application/json";
    } else if (opts.form) {
        body = new URLSearchParams(opts.form).toString();
        headers["Content-Type"] = "application/x-www-form-urlencoded";
    }
    if (body !== undefined) headers["Content-Length"] = String(Buffer.byteLength(body));
    const timeout = opts.timeoutMs ?? 60_000;
    return new Promise((resolve, reject) => {
        const options: https.RequestOptions = {
            method,
            headers,
            lookup: hubTls.lookup as any,
            // A fresh connection each time, as hubRequest does: a pooled one may have been closed by the proxy.
            agent: false,
            timeout,
            ...(u.protocol === "https:" ? { ca: hubTls.ca } : {}),
        };
        const req = (u.protocol === "https:" ? https : http).request(u, options, (res) => {
            let text = "";
            res.setEncoding("utf8");
            res.on("data", (c) => (text += c));
            res.on("end", () => {
                opts.jar?.store(u.hostname, res.headers["set-cookie"]);
                resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text });
            });
            res.on("error", reject);
        });
        req.on("timeout", () => req.destroy(new Error(`no answer in ${timeout / 1000} s: ${method} ${u.pathname}`)));
        req.on("error", reject);
        if (body !== undefined) req.write(body);
        req.end();
    });
}

export const hub = (method: string, urlPath: string, opts: Parameters<typeof request>[1] = {}) => request(`${HUB}${urlPath}`, { ...opts, method });

function unescapeHtml(s: string): string {
    const named: Record<string, string> = { amp: "&", quot: '"', apos: "'", lt: "<", gt: ">" };
    return s.replace(/&(#x[0-9a-f]+|#\d+|amp|quot|apos|lt|gt);/gi, (_, e: string) => {
        const k = e.toLowerCase();
        if (k.startsWith("#x")) return String.fromCodePoint(parseInt(k.slice(2), 16));
        if (k.startsWith("#")) return String.fromCodePoint(Number(k.slice(1)));
        return named[k];
    });
}

/** The message of an error answer: JupyterHub's JSON `message`, or the text of an HTML error page. */
export function messageOf(r: Reply): string {
    try {
        const j = JSON.parse(r.body);
        if (j && typeof j.message === "string" && j.message) return j.message;
    } catch {
        // not JSON
    }
    const html = /<div class="error">([\s\S]*?)<\/div>/i.exec(r.body)?.[1] ?? r.body;
    const text = unescapeHtml(html.replace(/<(script|style)[\s\S]*?<\/\1>/gi, " ").replace(/<[^>]+>/g, " ")).replace(/\s+/g, " ").trim();
    return text.slice(0, 200) || http.STATUS_CODES[r.status] || "";
}

function attr(tag: string, name: string): string | undefined {
    const m = new RegExp(`\\s${name}\\s*=\\s*(?:"([^"]*)"|'([^']*)')`, "i").exec(tag);
    return m ? unescapeHtml(m[1] ?? m[2]) : undefined;
}

/** Keycloak's login form: where it posts to, and its hidden fields. */
function loginForm(html: string): { action: string; fields: Record<string, string> } | undefined {
    for (const m of html.matchAll(/<form\b[^>]*>([\s\S]*?)<\/form>/gi)) {
        const tag = m[0].slice(0, m[0].indexOf(">") + 1);
        const action = attr(tag, "action");
        if (!action || (attr(tag, "id") !== "kc-form-login" && !action.includes("/login-actions/authenticate"))) continue;
        const fields: Record<string, string> = {};
        for (const input of m[1].matchAll(/<input\b[^>]*>/gi)) {
            const name = attr(input[0], "name");
            if (name && attr(input[0], "type")?.toLowerCase() === "hidden") fields[name] = attr(input[0], "value") ?? "";
        }
        return { action, fields };
    }
    return undefined;
}

/** What a Keycloak page says: its title and its error line, if any. */
function keycloakSays(html: string): string {
    const title = /<title>([^<]*)<\/title>/i.exec(html)?.[1];
    const error = /id="input-error[^"]*"[^>]*>\s*([^<]+)/i.exec(html)?.[1] ?? /class="[^"]*kc-feedback-text[^"]*"[^>]*>\s*([^<]+)/i.exec(html)?.[1];
    return [title, error].filter((s): s is string => !!s).map((s) => unescapeHtml(s.trim())).join(": ") || "(no title)";
}

export interface Session {
    user: string;
    token: string;
    tokenId: string;
    loginS: number;
}

/**
 * Logs a user in as the browser does, without one: the hub's OAuth redirect, Keycloak's
 * login form, the hub's callback, a page view for the XSRF token, then an API token.
 */
export async function logIn(user: string, password: string): Promise<Session> {
    const started = Date.now();
    const jar = new CookieJar();
    // 1. The hub's OAuth login sets its state cookie (with the PKCE verifier) and sends us to Keycloak.
    const start = await request(`${HUB}/hub/oauth_login?next=${encodeURIComponent("/hub/home")}`, { jar });
    if (start.status !== 302 || !start.headers.location) throw new Error(`the hub's OAuth login: ${start.status} ${messageOf(start)}`);
    const authorize = new URL(start.headers.location, HUB);
    if (authorize.host !== `${kc.host}:${kc.port}`) throw new Error(`the hub sent us to ${authorize.origin}, not to the test bed's Keycloak`);
    // 2. Keycloak's login page: its session cookies and the form.
    const page = await request(authorize.toString(), { jar });
    if (page.status !== 200) throw new Error(`Keycloak's login page: ${page.status} ${keycloakSays(page.body)}`);
    const form = loginForm(page.body);
    if (!form) throw new Error(`no login form on Keycloak's page (${keycloakSays(page.body)})`);
    // 3. The credentials, posted as the form does; Keycloak answers with a redirect to the hub's callback.
    const action = new URL(form.action, authorize);
    const posted = await request(action.toString(), { jar, method: "POST", form: { ...form.fields, username: user, password } });
    if (posted.status !== 302 && posted.status !== 303) throw new Error(`Keycloak did not log ${user} in: ${posted.status} ${keycloakSays(posted.body)}`);
    const callback = new URL(posted.headers.location ?? "", action);
    if (`${callback.origin}${callback.pathname}` !== `${HUB}/hub/oauth_callback`) {
        throw new Error(`Keycloak sent ${user} to ${callback.origin}${callback.pathname}, not to the hub's callback (${keycloakSays(posted.body)})`);
    }
    // 4. The hub's callback trades the code for tokens, checks who may log in and sets its login cookie.
    const back = await request(callback.toString(), { jar });
    if (back.status !== 302 || !jar.get(HUB_HOST, "jupyterhub-hub-login")) throw new Error(`the hub's OAuth callback: ${back.status} ${messageOf(back)}`);
    // 5. A page view, as after the redirect: the session's XSRF token (in the page and its cookie).
    const home = await request(`${HUB}/hub/home`, { jar });
    if (home.status !== 200) throw new Error(`the hub's home page: ${home.status} ${messageOf(home)}`);
    const cookieXsrf = jar.get(HUB_HOST, "_xsrf");
    const xsrf = /xsrf_token:\s*"([^"]+)"/.exec(home.body)?.[1] ?? (cookieXsrf ? decodeURIComponent(cookieXsrf) : undefined);
    if (!xsrf) throw new Error("the hub's home page has no XSRF token");
    // 6. An API token, requested as the hub's own pages do: session cookie plus X-XSRFToken.
    const tok = await request(`${HUB}/hub/api/users/${user}/tokens`, {
        jar,
        method: "POST",
        headers: { "X-XSRFToken": xsrf },
        json: { note: "load benchmark", expires_in: TOKEN_SECONDS },
    });
    if (tok.status !== 201) throw new Error(`token request: ${tok.status} ${messageOf(tok)}`);
    const { token, id } = JSON.parse(tok.body) as { token: string; id: string };
    return { user, token, tokenId: id, loginS: (Date.now() - started) / 1000 };
}

// ---------------------------------------------------------------- Keycloak's admin API

/** The test bed's Keycloak through its admin REST API on 127.0.0.1, as e2e/testbed/keycloak-realm.ts uses it. */
export class KeycloakAdmin {
    private readonly base = `http://127.0.0.1:${kc.port}`;
    private token?: { value: Promise<string>; until: number };

    private bearer(): Promise<string> {
        if (this.token && Date.now() < this.token.until) return this.token.value;
        const value = (async () => {
            const res = await fetch(`${this.base}/realms/master/protocol/openid-connect/token`, {
                method: "POST",
                body: new URLSearchParams({ grant_type: "password", client_id: "admin-cli", username: kc.admin.username, password: kc.admin.password }),
            });
            if (!res.ok) throw new Error(`Keycloak admin login: ${res.status} ${await res.text()}`);
            return ((await res.json()) as { access_token: string }).access_token;
        })();
        // The master realm's tokens live 60 s by default: renew well before.
        this.token = { value, until: Date.now() + 30_000 };
        value.catch(() => (this.token = undefined));
        return value;
    }

    async call(method: string, urlPath: string, body?: unknown, ok: number[] = [200, 201, 204]): Promise<any> {
        const res = await fetch(`${this.base}/admin/realms/${kc.realm}${urlPath}`, {
            method,
            headers: { Authorization: `Bearer ${await this.bearer()}`, "Content-Type": "application/json" },
            body: body === undefined ? undefined : JSON.stringify(body),
        });
        const text = await res.text();
        if (!ok.includes(res.status)) throw new Error(`Keycloak ${method} ${urlPath}: ${res.status} ${text}`);
        return text ? JSON.parse(text) : undefined;
    }

    async groupId(name: string): Promise<string> {
        const groups = (await this.call("GET", `/groups?search=${encodeURIComponent(name)}&exact=true`)) as Array<{ id: string; name: string }>;
        const group = groups.find((g) => g.name === name);
        if (!group) throw new Error(`realm ${kc.realm} has no group ${name}: run e2e/testbed/keycloak.sh`);
        return group.id;
    }

    private async userId(username: string): Promise<string | undefined> {
        const users = (await this.call("GET", `/users?username=${encodeURIComponent(username)}&exact=true`)) as Array<{ id: string; username: string }>;
        return users.find((u) => u.username === username)?.id;
    }

    /** Creates the user or brings it back to a known state: enabled, no pending actions, its password, in the group. */
    async ensureUser(username: string, password: string, groupId: string): Promise<void> {
        // Complete profile and no required actions, or Keycloak asks for them before the redirect.
        const rep = { username, enabled: true, email: `${username}@load.localhost`, emailVerified: true, firstName: username, lastName: "Load", requiredActions: [] };
        let id = await this.userId(username);
        if (id) await this.call("PUT", `/users/${id}`, rep);
        else await this.call("POST", "/users", rep, [201, 409]);
        id ??= await this.userId(username);
        if (!id) throw new Error(`Keycloak user ${username} was not created`);
        await this.call("PUT", `/users/${id}/reset-password`, { type: "password", value: password, temporary: false });
        await this.call("PUT", `/users/${id}/groups/${groupId}`);
    }
}

