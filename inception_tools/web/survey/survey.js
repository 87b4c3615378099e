// The survey page: one feature at a time, in the blind order the server keeps.
// The server holds all state (position, locked answers); this page only shows it.
"use strict";

const participant = new URLSearchParams(location.search).get("participant");
// The participant's secret, from the URL the survey printed: every request carries it.
const token = new URLSearchParams(location.search).get("token") || "";
const credentials = () => `participant=${encodeURIComponent(participant)}&token=${encodeURIComponent(token)}`;
const byId = (id) => document.getElementById(id);

async function call(method, url, body) {
  const response = await fetch(url, {
    method,
    headers: body ? { "Content-Type": "application/json" } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  const reply = await response.json();
  if (!response.ok) {
    throw new Error(reply.error || `request failed (${response.status})`);
  }
  return reply;
}

function showMessage(text) {
  byId("message").textContent = text;
}

function ratingQuestion(question, number) {
  const fieldset = document.createElement("fieldset");
  fieldset.dataset.name = question.name;
  const legend = document.createElement("legend");
  legend.textContent = `${number}. ${question.text}`;
  const scale = document.createElement("div");
  scale.className = "scale";
  if (question.low) scale.append(endLabel(`1 = ${question.low}`));
  for (let value = 1; value <= 5; value++) {
    const label = document.createElement("label");
    const input = document.createElement("input");
    Object.assign(input, { type: "radio", name: question.name, value, id: `${question.name}-${value}` });
    label.append(input, String(value));
    scale.append(label);
  }
  if (question.high) scale.append(endLabel(`5 = ${question.high}`));
  fieldset.append(legend, scale);
  return fieldset;
}

function endLabel(text) {
  const span = document.createElement("span");
  span.className = "end";
  span.textContent = text;
  return span;
}

function textQuestion(question, number) {
  const fieldset = document.createElement("fieldset");
  const label = document.createElement("label");
  label.className = "text";
  label.htmlFor = question.name;
  label.textContent = `${number}. ${question.text}`;
  const area = document.createElement("textarea");
  Object.assign(area, { id: question.name, name: question.name, rows: 2, maxLength: 500 });
  fieldset.append(label, area);
  return fieldset;
}

function buildQuestions(questions) {
  const describe = byId("describe").querySelector(".questions");
  if (describe.childElementCount) return;
  const [clarity, phrases] = questions.describe;
  describe.append(ratingQuestion(clarity, 1), textQuestion(phrases, 2));
  const rate = byId("rate").querySelector(".questions");
  questions.rate.forEach((q, i) => rate.append(ratingQuestion(q, i + 3)));
}

function setDisabled(form, disabled) {
  for (const fieldset of form.querySelectorAll("fieldset")) fieldset.disabled = disabled;
  form.querySelector("button").disabled = disabled;
}

function imageUrl(kind, position) {
  return `/image/${kind}/${position}?${credentials()}`;
}

let state = null;

function render(next) {
  const moved = !state || state.position !== next.position;
  state = next;
  showMessage("");
  if (state.stage === "done") {
    byId("progress").textContent = `Participant ${state.participant}: all ${state.total} features answered`;
    byId("describe").hidden = byId("rate").hidden = true;
    byId("done").hidden = false;
    return;
  }
  byId("progress").textContent = `Participant ${state.participant} · Feature ${state.position} of ${state.total}`;
  buildQuestions(state.questions);
  const describe = byId("describe");
  const rate = byId("rate");
  if (moved) {
    describe.reset();
    rate.reset();
    byId("visualizations").src = imageUrl("visualizations", state.position);
  }
  describe.hidden = false;
  const locked = state.stage === "rate";
  setDisabled(describe, locked);
  byId("describe-note").hidden = locked;
  if (locked) {
    byId(`question1-${state.question1}`).checked = true;
    byId("text_question").value = state.text_question;
    byId("examples").src = imageUrl("examples", state.position);
  }
  rate.hidden = !locked;
}

function chosen(form, name) {
  const input = form.querySelector(`input[name="${name}"]:checked`);
  return input ? Number(input.value) : null;
}

async function refresh() {
  render(await call("GET", `/api/state?${credentials()}`));
}

async function saveDescription(event) {
  event.preventDefault();
  const form = byId("describe");
  const question1 = chosen(form, "question1");
  if (question1 === null) {
    showMessage("Please select a response to question 1 before saving the description.");
    return;
  }
  const text_question = byId("text_question").value;
  await submit("/api/describe", { question1, text_question });
}

async function submitRatings(event) {
  event.preventDefault();
  const form = byId("rate");
  const answers = {};
  for (const question of state.questions.rate) {
    answers[question.name] = chosen(form, question.name);
  }
  const missing = state.questions.rate.findIndex((q) => answers[q.name] === null);
  if (missing >= 0) {
    showMessage(`Please select a response to question ${missing + 3} before submitting.`);
    return;
  }
  await submit("/api/rate", answers);
  window.scrollTo(0, 0);
}

async function submit(url, answers) {
  try {
    await call("POST", url, { participant, token, position: state.position, ...answers });
    await refresh();
  } catch (error) {
    showMessage(error.message);
  }
}

document.addEventListener("DOMContentLoaded", () => {
  if (!participant || !token) {
    byId("login").hidden = false;
    return;
  }
  byId("describe").addEventListener("submit", saveDescription);
  byId("rate").addEventListener("submit", submitRatings);
  refresh().catch((error) => showMessage(error.message));
});
