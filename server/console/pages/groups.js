// Group accounts (admin; L1–L4, P1, P5, B1–B4): sign in to BizReach, the group accounts in their
// four states (未連携, 承認待ち, 連携済み, 連携停止), link / suspend / resume; progress sync is
// switched on only after its preview (what it would overwrite, P5) is shown and confirmed; a
// backfill answers with its counts.
import { get, post, put } from "../api.js";
import { lang, pageWords } from "../i18n.js";
import { clearErrors, el, field, form, showError, values, when } from "../ui.js";

const STATES = {
  unlinked: "未連携",
  pending_approval: "承認待ち",
  linked: "連携済み",
  suspended: "連携停止",
};
const STATES_EN = { unlinked: "not linked", pending_approval: "awaiting approval", linked: "linked", suspended: "suspended" };

const w = pageWords({
  ja: {
    title: "グループアカウント",
    sub: "BizReach のグループアカウントを連携すると、その応募が取り込まれます。連携にはグループの管理者の承認 (メール) が要ります。",
    signin: "BizReach にサインイン",
    signin_intro: "BizReach の組織管理者アカウントでサインインすると、グループアカウントの一覧を読み込みます。パスワードは暗号化して保存されます。",
    email: "BizReach のメールアドレス",
    password: "BizReach のパスワード",
    signin_submit: "サインインして読み込む",
    signed_in: "{account} としてサインインし、{count} 件のグループアカウントを読み込みました。",
    groups: "グループアカウントの一覧",
    none: "グループアカウントはまだありません。上で BizReach にサインインしてください。",
    name: "グループ",
    admin_email: "グループの管理者",
    state: "連携状態",
    linked_at: "連携日時",
    sync: "進捗同期",
    on: "オン",
    off: "オフ",
    actions: "操作",
    link: "連携を申請",
    link_again: "承認メールを再送",
    suspend: "連携を停止",
    resume: "連携を再開",
    sync_on: "進捗同期をオンにする…",
    sync_off: "進捗同期をオフにする",
    backfill: "過去の応募を取り込む",
    link_requested: "{name} の管理者に承認メールを送りました。",
    suspended: "{name} の連携を停止しました。",
    resumed: "{name} の連携を再開しました。",
    sync_turned_on: "{name} の進捗同期をオンにしました。",
    sync_turned_off: "{name} の進捗同期をオフにしました。",
    preview: "進捗同期をオンにする前に: {name}",
    preview_intro: "オンにすると、これから ATS の選考状況が BizReach の状況を上書きします。今オンにした場合に上書きされる応募は次の {count} 件です。",
    preview_none: "今オンにしても上書きされる応募はありません。",
    application: "応募",
    candidate: "候補者",
    ats_status: "ATS の状況",
    now: "BizReach の今の状況",
    after: "同期後の BizReach の状況",
    confirm: "確認して進捗同期をオンにする",
    cancel: "やめる",
    backfill_done: "{name}: {imported} 件を取り込みました。取り込まなかったもの: 1 年より前 {too_old} 件、最新 500 件より前 {beyond_latest_500} 件、対象外の状況 {status_excluded} 件、取り込み済み {already_imported} 件。",
    running: "実行中…",
  },
  en: {
    title: "Group accounts",
    sub: "Linking a BizReach group account imports its applications. A link needs the approval of the group's administrator (by email).",
    signin: "Sign in to BizReach",
    signin_intro: "Sign in with a BizReach organisation-admin account to load its group accounts. The password is stored encrypted.",
    email: "BizReach email",
    password: "BizReach password",
    signin_submit: "Sign in and load",
    signed_in: "Signed in as {account}; loaded {count} group accounts.",
    groups: "The group accounts",
    none: "No group accounts yet. Sign in to BizReach above.",
    name: "Group",
    admin_email: "Group administrator",
    state: "Link state",
    linked_at: "Linked",
    sync: "Progress sync",
    on: "on",
    off: "off",
    actions: "Actions",
    link: "Request a link",
    link_again: "Send the approval email again",
    suspend: "Suspend",
    resume: "Resume",
    sync_on: "Switch progress sync on…",
    sync_off: "Switch progress sync off",
    backfill: "Import earlier applications",
    link_requested: "Sent the approval email to the administrator of {name}.",
    suspended: "Suspended {name}.",
    resumed: "Resumed {name}.",
    sync_turned_on: "Progress sync is on for {name}.",
    sync_turned_off: "Progress sync is off for {name}.",
    preview: "Before progress sync is switched on: {name}",
    preview_intro: "Once on, the ATS's progress overwrites BizReach's. Switched on now, it would overwrite these {count} applications.",
    preview_none: "Switched on now, it would overwrite no application.",
    application: "Application",
    candidate: "Candidate",
    ats_status: "ATS status",
    now: "BizReach status now",
    after: "BizReach status after sync",
    confirm: "Confirm and switch progress sync on",
    cancel: "Cancel",
    backfill_done: "{name}: imported {imported}. Not imported: older than a year {too_old}, beyond the latest 500 {beyond_latest_500}, excluded status {status_excluded}, imported already {already_imported}.",
    running: "Working…",
  },
});

function stateLabel(status) {
  const ja = STATES[status] || status;
  return lang() === "en" ? `${STATES_EN[status] || status} (${ja})` : ja;
}

export async function render(main) {
  document.title = `${w("title")} - hirelay`;
  const message = el("p", { role: "status", id: "groups-message" });
  const say = (text, isError) => {
    message.textContent = text;
    message.className = isError ? "error" : "";
  };
  const rows = el("tbody", { id: "group-accounts" });
  const preview = el("section", { id: "sync-preview", hidden: true, "aria-labelledby": "sync-preview-title" });

  /** Runs a change, says what it did (or why not), and shows the list again. */
  const act = async (button, call, done) => {
    button.disabled = true;
    say(w("running"));
    let text;
    let failed = false;
    try {
      text = done(await call());
    } catch (error) {
      [text, failed] = [error.message, true];
    }
    // Said once the list shows the change.
    await reload();
    say(text, failed);
  };

  const showPreview = async (group) => {
    let answer;
    try {
      answer = await get(`/v1/group-accounts/${encodeURIComponent(group.id)}/progress-sync/preview`);
    } catch (error) {
      return say(error.message, true);
    }
    const heading = el("h2", { id: "sync-preview-title", tabindex: "-1" }, w("preview", { name: group.name }));
    const close = () => {
      preview.hidden = true;
      preview.replaceChildren();
    };
    const confirm = el(
      "button",
      {
        type: "button",
        onclick: (e) =>
          act(
            e.target,
            () => put(`/v1/group-accounts/${encodeURIComponent(group.id)}/progress-sync`, { enabled: true }),
            () => {
              close();
              return w("sync_turned_on", { name: group.name });
            }
          ),
      },
      w("confirm")
    );
    preview.replaceChildren(
      heading,
      el("p", { id: "sync-preview-count" }, answer.count ? w("preview_intro", { count: answer.count }) : w("preview_none")),
      answer.count
        ? el(
            "table",
            {},
            el("thead", {}, el("tr", {}, ["application", "candidate", "ats_status", "now", "after"].map((k) => el("th", { scope: "col" }, w(k))))),
            el(
              "tbody",
              {},
              answer.items.map((item) =>
                el(
                  "tr",
                  { "data-application": item.source_application_id || item.application_id },
                  el("td", {}, item.source_application_id || item.application_id),
                  el("td", {}, item.candidate_name || "—"),
                  el("td", {}, item.ats_status),
                  el("td", {}, item.bizreach_status_now || "—"),
                  el("td", {}, item.bizreach_status_after)
                )
              )
            )
          )
        : "",
      el("div", { className: "actions" }, confirm, el("button", { type: "button", onclick: close }, w("cancel")))
    );
    preview.hidden = false;
    heading.focus();
  };

  const actions = (group) => {
    const path = (what) => `/v1/group-accounts/${encodeURIComponent(group.id)}/${what}`;
    const button = (label, onclick) => el("button", { type: "button", onclick, "aria-label": `${label}: ${group.name}` }, label);
    const list = [];
    if (group.status === "unlinked" || group.status === "pending_approval") {
      const label = group.status === "unlinked" ? w("link") : w("link_again");
      list.push(button(label, (e) => act(e.target, () => post(path("link"), {}), () => w("link_requested", { name: group.name }))));
    }
    if (group.status === "linked") {
      list.push(button(w("suspend"), (e) => act(e.target, () => post(path("suspend"), {}), () => w("suspended", { name: group.name }))));
      list.push(
        group.progress_sync
          ? button(w("sync_off"), (e) => act(e.target, () => put(path("progress-sync"), { enabled: false }), () => w("sync_turned_off", { name: group.name })))
          : button(w("sync_on"), () => showPreview(group))
      );
      list.push(
        button(w("backfill"), (e) =>
          act(
            e.target,
            () => post(path("backfill"), {}),
            (report) => w("backfill_done", { name: group.name, imported: report.imported, ...report.skipped })
          )
        )
      );
    }
    if (group.status === "suspended") {
      list.push(button(w("resume"), (e) => act(e.target, () => post(path("resume"), {}), () => w("resumed", { name: group.name }))));
    }
    return el("div", { className: "actions" }, list);
  };

  const reload = async () => {
    const list = await get("/v1/group-accounts");
    rows.replaceChildren(
      ...list.items.map((group) =>
        el(
          "tr",
          { "data-group": group.id, "data-state": group.status },
          el("td", {}, `${group.name} (${group.id})`),
          el("td", {}, group.admin_email),
          el("td", {}, stateLabel(group.status)),
          el("td", {}, when(group.linked_at)),
          el("td", {}, group.progress_sync ? w("on") : w("off")),
          el("td", {}, actions(group))
        )
      )
    );
    if (!list.items.length) rows.append(el("tr", {}, el("td", { colspan: 6 }, w("none"))));
  };

  const signIn = async (event) => {
    event.preventDefault();
    const node = event.target;
    clearErrors(node);
    const v = values(node);
    try {
      const session = await post("/v1/bizreach/session", { email: v.email, password: v.password });
      node.reset();
      await reload();
      say(w("signed_in", { account: session.account_name, count: session.group_accounts.length }));
    } catch (error) {
      showError(node, error.field, error.message);
    }
  };

  main.append(
    el("h1", {}, w("title")),
    el("p", { className: "sub" }, w("sub")),
    message,
    el("h2", {}, w("groups")),
    el(
      "div",
      { className: "scroll" },
      el(
        "table",
        {},
        el("thead", {}, el("tr", {}, ["name", "admin_email", "state", "linked_at", "sync", "actions"].map((k) => el("th", { scope: "col" }, w(k))))),
        rows
      )
    ),
    preview,
    el("h2", {}, w("signin")),
    el("p", {}, w("signin_intro")),
    form(
      "bizreach-signin",
      signIn,
      field("bizreach-signin", { name: "email", label: w("email"), type: "email", required: true }),
      field("bizreach-signin", { name: "password", label: w("password"), type: "password", required: true, autocomplete: "off" }),
      el("button", { type: "submit" }, w("signin_submit"))
    )
  );
  await reload();
}
