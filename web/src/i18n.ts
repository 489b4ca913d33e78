// The dashboard's words, Chinese first. A key missing in English falls back to the Chinese.
export type Lang = "zh" | "en";

const zh: Record<string, string> = {
  title: "全区一本账", ledger: "台账", supervision: "督办", stats: "统计", signout: "退出",
  signin: "登录", token_hint: "粘贴令牌（oneledger up 启动时打印的开发令牌，或身份系统签发的令牌）",
  unit: "单位", territory: "所属区域", stage: "阶段", risk: "风险", overdue_only: "仅逾期", due_before: "期限截至",
  text: "标题关键字", any: "全部", search: "查询", reset: "重置", total: "事项总数", overdue: "逾期", due_soon: "7日内到期",
  open: "未办结", closed: "已办结", status: "状态",
  col_root: "台账编号", col_title: "事项名称", col_status: "状态", col_stage: "阶段", col_responsible: "属事单位",
  col_territory: "所属区域", col_risk: "风险", col_next_due: "最近期限", col_orders: "督办", col_changed: "最近变动",
  col_registered: "首次登记",
  prev: "上一页", next: "下一页", page_of: "第 {a}–{b} 条，共 {n} 条", export_xlsx: "导出 Excel", export_csv: "导出 CSV",
  live: "实时", behind: "同步中", disconnected: "已断开，正在重连",
  items: "事项", agency: "机构", deadlines: "期限", kind: "类型", article: "依据", due_on: "到期日", met_on: "完成日",
  countdown: "剩余", days_left: "剩 {n} 天", days_over: "逾期 {n} 天", today_due: "今日到期", paused: "听证中止",
  provisional: "暂定", duty: "责任单位", orders: "督办函", escalation: "督办层级", answer_due: "反馈期限",
  reports: "化解报告", timeline: "全程记录", when: "时间", event: "事件", by: "经办单位", units: "单位",
  police: "派出所", co_handling: "协同单位", responsible: "属事单位", territorial: "属地单位", proposals: "督办建议",
  agreements: "协议", back: "返回台账", by_level: "按层级", overdue_answers: "逾期未反馈", to_unit: "督办对象",
  none: "无", period: "统计期间", from: "起", to: "止", five: "年报五项", trend: "月度趋势", per_unit: "各单位",
  outcomes: "复查复核结果", registered: "登记", accepted: "受理", concluded: "终结", on_time: "按期办结率",
  matters: "事项", answers_overdue: "督办逾期", upheld: "维持", changed: "变更", revoked: "撤销", review: "复查",
  re_review: "复核", warnings: "风险预警", orders_issued: "督办函", resolution_reports: "化解报告",
  collective: "交办群体性事项", priority: "交办重点事项", expired: "令牌无效或已过期，请重新登录",
  petition: "信访办", public_security: "公安", political_legal: "政法委", loading: "加载中…", no_entries: "没有符合条件的事项",
};

const en: Record<string, string> = {
  title: "District master ledger", ledger: "Ledger", supervision: "Supervision", stats: "Statistics", signout: "Sign out",
  signin: "Sign in", token_hint: "Paste a token (the development token `oneledger up` prints, or one your identity provider issues)",
  unit: "Unit", territory: "Territory", stage: "Stage", risk: "Risk", overdue_only: "Overdue only", due_before: "Due by",
  text: "Title contains", any: "Any", search: "Search", reset: "Reset", total: "Entries", overdue: "Overdue", due_soon: "Due in 7 days",
  open: "Open", closed: "Closed", status: "Status",
  col_root: "Ledger no.", col_title: "Title", col_status: "Status", col_stage: "Stage", col_responsible: "Responsible unit",
  col_territory: "Territory", col_risk: "Risk", col_next_due: "Next due", col_orders: "Orders", col_changed: "Last change",
  col_registered: "Registered",
  prev: "Previous", next: "Next", page_of: "{a}–{b} of {n}", export_xlsx: "Export Excel", export_csv: "Export CSV",
  live: "Live", behind: "Catching up", disconnected: "Disconnected, reconnecting",
  items: "Items", agency: "Agency", deadlines: "Deadlines", kind: "Kind", article: "Rule", due_on: "Due", met_on: "Met",
  countdown: "Left", days_left: "{n} days left", days_over: "{n} days overdue", today_due: "Due today", paused: "Paused (hearing)",
  provisional: "Provisional", duty: "Whose duty", orders: "Supervision orders", escalation: "Escalation", answer_due: "Answer due",
  reports: "Resolution reports", timeline: "Timeline", when: "When", event: "Event", by: "By", units: "Units",
  police: "Police station", co_handling: "Co-handling units", responsible: "Responsible unit", territorial: "Territorial unit",
  proposals: "Supervision proposals", agreements: "Agreements", back: "Back to the ledger", by_level: "By level",
  overdue_answers: "Answers overdue", to_unit: "Supervised unit", none: "None", period: "Period", from: "From", to: "To",
  five: "The report's five figures", trend: "Monthly trend", per_unit: "By unit", outcomes: "Review and re-review outcomes",
  registered: "Registered", accepted: "Accepted", concluded: "Concluded", on_time: "On-time rate", matters: "Matters",
  answers_overdue: "Answers overdue", upheld: "Upheld", changed: "Changed", revoked: "Revoked", review: "Review",
  re_review: "Re-review", warnings: "Risk warnings", orders_issued: "Supervision orders", resolution_reports: "Resolution reports",
  collective: "Collective matters assigned", priority: "Priority matters assigned", expired: "The token is invalid or expired: sign in again",
  petition: "Petition office", public_security: "Public security", political_legal: "Political-legal committee",
  loading: "Loading…", no_entries: "No entries match",
};

let lang: Lang = (localStorage.getItem("lang") as Lang) === "en" ? "en" : "zh";

export function current(): Lang {
  return lang;
}

export function setLang(l: Lang): void {
  lang = l;
  localStorage.setItem("lang", l);
  document.documentElement.lang = l === "zh" ? "zh-CN" : "en";
}

export function t(key: string, vars: Record<string, string | number> = {}): string {
  const text = (lang === "en" ? en[key] : undefined) ?? zh[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, v) => String(vars[v] ?? ""));
}

// Stage names in Chinese, by the enum's name without its prefix; English comes from the name itself.
const stageZh: Record<string, string> = {
  MATTER_REGISTERED: "已登记", MATTER_FORWARDED: "已转送", MATTER_ASSIGNED: "已交办", MATTER_RECEIVED: "已接收",
  MATTER_ROUTING_OBJECTED: "异议待定", MATTER_HANDLING: "办理中", MATTER_OPINION_ISSUED: "已出具意见",
  MATTER_REPLIED: "已答复", MATTER_UNDER_REVIEW: "复查中", MATTER_REVIEW_OPINION_ISSUED: "已出具复查意见",
  MATTER_REVIEW_REPLIED: "复查已答复", MATTER_UNDER_RE_REVIEW: "复核中", MATTER_RE_REVIEW_OPINION_ISSUED: "已出具复核意见",
  MATTER_CONCLUDED: "依法终结", MATTER_FINAL: "已终结（期满）", MATTER_CHANNELLED: "导入法定途径", MATTER_DIVERTED: "已分流",
  MATTER_NOT_ACCEPTED: "不予受理", MATTER_REFERRED_TO_DISCIPLINE: "移送纪检监察", MATTER_ANSWERED: "已答复建议",
  MATTER_MERGED: "已合并", MATTER_NOT_ACCEPTED_AGAIN: "不再受理", DISPUTE_REPORTED: "纠纷已上报", DISPUTE_ASSESSED: "风险已评估",
  DISPUTE_ASSIGNED: "纠纷已交办", DISPUTE_RESOLUTION_REPORTED: "化解待核", DISPUTE_VERIFIED: "已化解", DISPUTE_CLOSED: "纠纷已结",
  JOINT_HANDLING_OPEN: "联合处置中", JOINT_HANDLING_CLOSED: "联合处置已结", ORDER_ISSUED: "督办已发",
  ORDER_ACKNOWLEDGED: "督办已签收", ORDER_FEEDBACK_SUBMITTED: "督办已反馈", ORDER_CLOSED: "督办已结",
};

const deadlineZh: Record<string, string> = {
  FORWARD_OR_ASSIGN: "转送交办", RECEIPT_NOTICE: "告知受理", ROUTING_OBJECTION: "异议期", HANDLING: "办理期限",
  REVIEW_REQUEST: "申请复查期", REVIEW_OPINION: "复查期限", RE_REVIEW_REQUEST: "申请复核期", RE_REVIEW_OPINION: "复核期限",
  RESOLUTION: "化解期限", SUPERVISION_FEEDBACK: "督办反馈",
};

const riskZh: Record<string, string> = { LOW: "低", MEDIUM: "中", HIGH: "高", MAJOR: "重大" };

const escalationZh: Record<string, string> = {
  INTERVIEW: "约谈", PUBLIC_NOTICE: "通报", LISTED_SUPERVISION: "挂牌督办", BACKWARD_INVESTIGATION: "倒查",
  ACCOUNTABILITY_RECOMMENDATION: "追责建议",
};

function english(name: string): string {
  const s = name.toLowerCase().replace(/_/g, " ");
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function label(table: Record<string, string>, name: string): string {
  if (!name || name === "UNSPECIFIED") return "";
  return lang === "zh" ? (table[name] ?? name) : english(name);
}

export const stageLabel = (name: string) => label(stageZh, name);
export const deadlineLabel = (name: string) => label(deadlineZh, name);
export const riskLabel = (name: string) => label(riskZh, name);
export const escalationLabel = (name: string) => label(escalationZh, name);
