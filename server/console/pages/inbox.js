// Import inbox (admin; I6–I8): the BizReach applications no routing rule matched, filtered by
// group, position, channel and date with their count; several are chosen (checkboxes) and
// routed to a job, optionally registering the rule "BizReach {position} → {job}" (I8); the
// routing rules, with delete; the jobs, created and renamed.
import { del, get, patch, post } from "../api.js";
import { pageWords } from "../i18n.js";
import { clearErrors, el, field, form, showError, values, when } from "../ui.js";

const w = pageWords({
  ja: {
    title: "インポート受信箱",
    sub: "振り分けルールに一致しなかった BizReach の応募です。選んで求人に振り分けます。",
    filters: "絞り込み",
    group: "グループアカウント",
    position: "ポジション名",
    channel: "経路",
    from: "応募日 (から)",
    to: "応募日 (まで)",
    all: "すべて",
    show: "表示",
    count: "{count} 件",
    select_all: "表示中の応募をすべて選ぶ",
    select_one: "{name} の応募を選ぶ",
    selection: "選んだ応募",
    applied_at: "応募日時",
    candidate: "候補者",
    labels: "ラベル",
    empty: "受信箱は空です。",
    job: "振り分け先の求人",
    choose_job: "求人を選んでください",
    register_rule: "このルールを登録する (同じポジション名の今後の応募は自動で振り分け)",
    route: "振り分ける",
    routed: "{routed} 件を振り分けました。",
    rule_registered: "ルール「{name}」を登録しました。",
    rules: "振り分けルール",
    rule: "ルール",
    created_by: "登録者",
    created_at: "登録日時",
    actions: "操作",
    delete: "削除",
    confirm_delete: "ルール「{name}」を削除しますか？",
    no_rules: "振り分けルールはまだありません。",
    jobs: "求人",
    job_title: "求人名",
    ats_job_id: "ATS の求人 ID (任意)",
    rename_label: "「{title}」の新しい求人名",
    rename: "名前を変更",
    create_job: "求人を作成",
    create: "作成",
    job_created: "求人「{title}」を作成しました。",
    job_renamed: "求人名を「{title}」に変更しました。",
  },
  en: {
    title: "Import inbox",
    sub: "BizReach applications that no routing rule matched. Choose some and route them to a job.",
    filters: "Filters",
    group: "Group account",
    position: "Position name",
    channel: "Channel",
    from: "Applied from",
    to: "Applied until",
    all: "all",
    show: "Show",
    count: "{count} applications",
    select_all: "Select every application shown",
    select_one: "Select the application of {name}",
    selection: "Chosen applications",
    applied_at: "Applied",
    candidate: "Candidate",
    labels: "Labels",
    empty: "The inbox is empty.",
    job: "Job to route to",
    choose_job: "Choose a job",
    register_rule: "Register this rule (later applications with the same position route themselves)",
    route: "Route",
    routed: "Routed {routed} applications.",
    rule_registered: "Registered the rule “{name}”.",
    rules: "Routing rules",
    rule: "Rule",
    created_by: "Created by",
    created_at: "Created",
    actions: "Actions",
    delete: "Delete",
    confirm_delete: "Delete the rule “{name}”?",
    no_rules: "No routing rules yet.",
    jobs: "Jobs",
    job_title: "Job title",
    ats_job_id: "The job's id in the ATS (optional)",
    rename_label: "New title of “{title}”",
    rename: "Rename",
    create_job: "Create a job",
    create: "Create",
    job_created: "Created the job “{title}”.",
    job_renamed: "Renamed the job to “{title}”.",
  },
});

const FILTERS = ["group_account_id", "position_name", "channel", "from", "to"];
const CHANNELS = ["direct", "scout"];
const headers = (...keys) => el("thead", {}, el("tr", {}, keys.map((k) => el("th", { scope: "col" }, w(k)))));

export async function render(main) {
  document.title = `${w("title")} - hirelay`;
  const message = el("p", { role: "status", id: "inbox-message" });
  const say = (text, isError) => {
    message.textContent = text;
    message.className = isError ? "error" : "";
  };
  const [groups, jobs] = await Promise.all([get("/v1/group-accounts"), get("/v1/jobs?limit=500")]);

  // The filters: an unknown date is told beside its field by the server.
  const filters = form(
    "inbox-filter",
    (event) => {
      event.preventDefault();
      reloadInbox();
    },
    field("inbox-filter", {
      name: "group_account_id",
      label: w("group"),
      options: [["", w("all")], ...groups.items.map((g) => [g.id, `${g.name} (${g.id})`])],
    }),
    field("inbox-filter", { name: "position_name", label: w("position") }),
    field("inbox-filter", { name: "channel", label: w("channel"), options: [["", w("all")], ...CHANNELS.map((c) => [c, c])] }),
    field("inbox-filter", { name: "from", label: w("from"), type: "date" }),
    field("inbox-filter", { name: "to", label: w("to"), type: "date" }),
    el("button", { type: "submit" }, w("show"))
  );
  filters.classList.add("inline");

  // The inbox and the routing form around it: the checkboxes are the form's `application_ids`.
  const count = el("p", { id: "inbox-count", role: "status" });
  const rows = el("tbody", { id: "inbox" });
  const selectAll = el("input", {
    type: "checkbox",
    id: "inbox-select-all",
    "aria-label": w("select_all"),
    onchange: (e) => {
      for (const box of rows.querySelectorAll("input[type=checkbox]")) box.checked = e.target.checked;
    },
  });
  const jobOptions = () => [["", w("choose_job")], ...jobs.items.map((j) => [j.id, j.title])];
  const jobField = field("route", { name: "job_id", label: w("job"), options: jobOptions() });
  const routeForm = form(
    "route",
    (event) => route(event),
    el("fieldset", {}, el("legend", {}, w("selection")), el(
      "table",
      {},
      el("thead", {}, el("tr", {}, el("td", {}, selectAll), ["applied_at", "candidate", "position", "channel", "group", "labels"].map((k) => el("th", { scope: "col" }, w(k))))),
      rows
    ), el("p", { id: "route-application_ids-error", className: "field-error", "aria-live": "polite" })),
    jobField,
    field("route", { name: "register_rule", label: w("register_rule"), type: "checkbox" }),
    el("button", { type: "submit" }, w("route"))
  );
  routeForm.classList.add("wide");

  const reloadInbox = async () => {
    clearErrors(filters);
    const p = new URLSearchParams();
    const v = values(filters);
    for (const name of FILTERS) if (v[name]) p.set(name, v[name]);
    p.set("limit", "500");
    try {
      const page = await get(`/v1/imports?${p}`);
      count.textContent = w("count", { count: page.count });
      selectAll.checked = false;
      rows.replaceChildren(
        ...page.items.map((item) => {
          const name = item.candidate ? item.candidate.name : item.source_application_id || item.id;
          return el(
            "tr",
            { "data-application": item.source_application_id || item.id },
            el(
              "td",
              {},
              el("input", {
                type: "checkbox",
                name: "application_ids",
                value: item.id,
                "aria-label": w("select_one", { name }),
                "aria-describedby": "route-application_ids-error",
              })
            ),
            el("td", {}, when(item.applied_at)),
            el("td", {}, name),
            el("td", {}, item.position_name || "—"),
            el("td", {}, item.channel || "—"),
            el("td", {}, item.group_account_id || "—"),
            el("td", {}, item.labels.join(", "))
          );
        })
      );
      if (!page.items.length) rows.append(el("tr", {}, el("td", { colspan: 7 }, w("empty"))));
    } catch (error) {
      showError(filters, error.field, error.message);
    }
  };

  const route = async (event) => {
    event.preventDefault();
    const node = event.target;
    clearErrors(node);
    const data = new FormData(node);
    try {
      const result = await post("/v1/imports/route", {
        application_ids: data.getAll("application_ids"),
        job_id: data.get("job_id"),
        register_rule: data.get("register_rule") !== null,
      });
      await Promise.all([reloadInbox(), reloadRules()]);
      say([w("routed", { routed: result.routed }), result.rule_name ? w("rule_registered", { name: result.rule_name }) : ""].join(" ").trim());
    } catch (error) {
      // An empty `job_id` is not a job: say so beside the menu.
      showError(node, error.field, error.message);
    }
  };

  // Routing rules, with delete.
  const ruleRows = el("tbody", { id: "routing-rules" });
  const reloadRules = async () => {
    const list = await get("/v1/routing-rules");
    ruleRows.replaceChildren(
      ...list.items.map((rule) =>
        el(
          "tr",
          { "data-rule": rule.position_name },
          el("td", {}, rule.name),
          el("td", {}, rule.position_name),
          el("td", {}, rule.job_title || rule.job_id),
          el("td", {}, rule.created_by),
          el("td", {}, when(rule.created_at)),
          el("td", {}, el("button", { type: "button", onclick: () => deleteRule(rule), "aria-label": `${w("delete")}: ${rule.name}` }, w("delete")))
        )
      )
    );
    if (!list.items.length) ruleRows.append(el("tr", {}, el("td", { colspan: 6 }, w("no_rules"))));
  };
  const deleteRule = async (rule) => {
    if (!window.confirm(w("confirm_delete", { name: rule.name }))) return;
    try {
      await del(`/v1/routing-rules/${encodeURIComponent(rule.id)}`);
    } catch (error) {
      say(error.message, true);
    }
    await reloadRules();
  };

  // Jobs: each row renames its own job; the form below creates one.
  const jobRows = el("tbody", { id: "jobs" });
  const reloadJobs = async () => {
    jobs.items = (await get("/v1/jobs?limit=500")).items;
    const chosen = jobField.querySelector("select").value;
    jobField.querySelector("select").replaceChildren(...jobOptions().map(([value, text]) => el("option", { value }, text)));
    jobField.querySelector("select").value = chosen;
    jobRows.replaceChildren(
      ...jobs.items.map((job) => {
        const id = `job-${job.id}`;
        const rename = form(
          id,
          async (event) => {
            event.preventDefault();
            clearErrors(event.target);
            try {
              const renamed = await patch(`/v1/jobs/${encodeURIComponent(job.id)}`, { title: values(event.target).title });
              await Promise.all([reloadJobs(), reloadRules()]);
              say(w("job_renamed", { title: renamed.title }));
            } catch (error) {
              showError(event.target, error.field, error.message);
            }
          },
          field(id, { name: "title", label: w("rename_label", { title: job.title }), value: job.title, required: true }),
          el("button", { type: "submit" }, w("rename"))
        );
        rename.classList.add("inline");
        return el("tr", { "data-job": job.title }, el("td", {}, job.title), el("td", {}, job.ats_job_id || "—"), el("td", {}, rename));
      })
    );
  };
  const createJob = async (event) => {
    event.preventDefault();
    const node = event.target;
    clearErrors(node);
    const v = values(node);
    try {
      const job = await post("/v1/jobs", { title: v.title, ats_job_id: v.ats_job_id || null });
      node.reset();
      await reloadJobs();
      say(w("job_created", { title: job.title }));
    } catch (error) {
      showError(node, error.field, error.message);
    }
  };

  main.append(
    el("h1", {}, w("title")),
    el("p", { className: "sub" }, w("sub")),
    message,
    el("h2", {}, w("filters")),
    filters,
    count,
    routeForm,
    el("h2", {}, w("rules")),
    el("div", { className: "scroll" }, el("table", {}, headers("rule", "position", "job", "created_by", "created_at", "actions"), ruleRows)),
    el("h2", {}, w("jobs")),
    el("div", { className: "scroll" }, el("table", {}, headers("job_title", "ats_job_id", "rename"), jobRows)),
    el("h3", {}, w("create_job")),
    form(
      "new-job",
      createJob,
      field("new-job", { name: "title", label: w("job_title"), required: true }),
      field("new-job", { name: "ats_job_id", label: w("ats_job_id") }),
      el("button", { type: "submit" }, w("create"))
    )
  );
  await Promise.all([reloadInbox(), reloadRules(), reloadJobs()]);
}
