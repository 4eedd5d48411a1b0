// grader review: plain JavaScript, no build step. Student text is only ever set with textContent.
"use strict";

const TOKEN = document.querySelector('meta[name="review-token"]').content;
// every URL of the app starts with /t/<token>: the printed URL is the key, no cookie holds it
const BASE = document.querySelector('meta[name="review-base"]').content;

function graderName() {
  return (localStorage.getItem("grader-name") || "instructor").slice(0, 100);
}

async function post(path, body) {
  const response = await fetch(BASE + path, {
    method: "POST",
    headers: {"Content-Type": "application/json", "X-Review-Token": TOKEN},
    body: JSON.stringify(Object.assign({grader: graderName()}, body)),
  });
  let data = {};
  try { data = await response.json(); } catch (e) { data = {error: "the server answered " + response.status}; }
  return {status: response.status, data: data};
}

function fmt(value) {
  return String(Math.round(Number(value) * 10000) / 10000);
}

// ---------------------------------------------------------------- grading by question

const question = document.getElementById("question");
let current = null;

function cards() { return Array.from(document.querySelectorAll("section.card")); }

function select(card, focus) {
  if (!card) return;
  if (current) current.classList.remove("current");
  current = card;
  card.classList.add("current");
  if (focus !== false) {
    card.focus({preventScroll: true});
    card.scrollIntoView({block: "center"});
  }
}

function nextUngraded(from) {
  const all = cards();
  const start = from ? all.indexOf(from) : -1;
  for (let step = 1; step <= all.length; step++) {
    const card = all[(start + step) % all.length];
    if (!card.classList.contains("graded")) return card;
  }
  return null;
}

function ticked(card) {
  return Array.from(card.querySelectorAll("input.criterion:checked")).map((box) => Number(box.dataset.index));
}

function sumTicked(card) {
  const points = card.querySelector("input.points");
  let total = 0;
  card.querySelectorAll("input.criterion:checked").forEach((box) => { total += Number(box.dataset.points); });
  points.value = fmt(total);
}

function message(card, text, isError) {
  const span = card.querySelector(".message");
  span.textContent = text;
  span.classList.toggle("error", Boolean(isError));
}

function showGrade(card, grade) {
  card.dataset.version = String(grade.version);
  card.classList.add("graded");
  card.querySelector(".state").textContent =
    "graded " + fmt(grade.points) + " / " + fmt(question.dataset.max) + " by " + grade.grader;
  card.querySelector("input.points").value = fmt(grade.points);
  card.querySelectorAll("input.criterion").forEach((box) => {
    box.checked = grade.criteria.includes(Number(box.dataset.index));
  });
  card.querySelector("textarea.comment").value = grade.comment;
}

function showProgress(progress) {
  document.getElementById("progress").textContent = progress.graded + " / " + progress.total;
}

function rememberComment(text) {
  if (!text) return;
  const list = document.getElementById("comment-list");
  const known = Array.from(list.querySelectorAll("button.reuse")).some((b) => b.textContent === text);
  if (known) return;
  const item = document.createElement("li");
  const button = document.createElement("button");
  button.type = "button";
  button.className = "reuse";
  button.textContent = text;
  item.appendChild(button);
  list.appendChild(item);
}

async function save(card, advance) {
  const points = card.querySelector("input.points").value;
  if (points === "") {
    message(card, "tick a criterion or give points first", true);
    return;
  }
  const comment = card.querySelector("textarea.comment").value;
  message(card, "saving...");
  const result = await post("/api/grade", {
    student: card.dataset.student, item: question.dataset.item, criteria: ticked(card),
    points: points, comment: comment, version: Number(card.dataset.version),
  });
  if (result.status === 200) {
    showGrade(card, result.data.grade);
    showProgress(result.data.progress);
    rememberComment(result.data.grade.comment);
    message(card, "saved");
    if (advance) select(nextUngraded(card));
  } else if (result.status === 409) {
    const other = result.data.current;
    card.dataset.version = String(other.version);  // a second Save replaces it, knowingly
    message(card, result.data.error + " (" + fmt(other.points) + " points, \"" + other.comment +
      "\"). Save again to replace it.", true);
  } else {
    message(card, result.data.error || ("error " + result.status), true);
  }
}

async function gradeGroup(group, zero) {
  const members = cards().filter((c) => c.dataset.group === group && !c.classList.contains("graded"));
  if (!members.length) return;
  const model = zero ? null : (current && current.dataset.group === group ? current : null);
  if (!zero && (!model || model.querySelector("input.points").value === "")) {
    alert("Grade one answer of this group first (it becomes the model), then grade the group.");
    return;
  }
  const body = {item: question.dataset.item, students: members.map((c) => c.dataset.student)};
  if (zero) {
    Object.assign(body, {points: 0, criteria: [], comment: ""});
  } else {
    Object.assign(body, {points: model.querySelector("input.points").value, criteria: ticked(model),
      comment: model.querySelector("textarea.comment").value});
  }
  const result = await post("/api/group", body);
  if (result.status !== 200) { alert(result.data.error || ("error " + result.status)); return; }
  const byStudent = new Map(cards().map((c) => [c.dataset.student, c]));
  result.data.saved.forEach((grade) => {
    const card = byStudent.get(grade.student);
    showGrade(card, grade);
    message(card, "saved with the group");
  });
  showProgress(result.data.progress);
  if (!current || current.classList.contains("graded")) select(nextUngraded(current) || current);
}

function setupQuestion() {
  document.addEventListener("change", (event) => {
    if (event.target.matches("input.criterion")) sumTicked(event.target.closest("section.card"));
  });
  document.addEventListener("focusin", (event) => {
    const card = event.target.closest && event.target.closest("section.card");
    if (card && card !== current) select(card, false);
  });
  document.addEventListener("click", (event) => {
    const target = event.target;
    if (target.matches("button.save")) save(target.closest("section.card"), true);
    else if (target.matches("button.reuse") && current) {
      const box = current.querySelector("textarea.comment");
      box.value = box.value ? box.value + " " + target.textContent : target.textContent;
    } else if (target.matches("button.group-grade")) gradeGroup(target.dataset.group, false);
    else if (target.matches("button.blank-zero")) gradeGroup(target.dataset.group, true);
  });
  document.addEventListener("keydown", (event) => {
    if (!current || event.target.id === "grader-name") return;
    const typing = event.target.matches("textarea, input[type=number], input:not([type])");
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey || !typing || event.target.matches("input"))) {
      event.preventDefault();
      save(current, true);
      return;
    }
    if (event.key === "Escape" && typing) { event.target.blur(); current.focus(); return; }
    if (typing || event.ctrlKey || event.metaKey || event.altKey) return;
    const all = cards();
    if (/^[1-9]$/.test(event.key)) {
      const box = current.querySelectorAll("input.criterion")[Number(event.key) - 1];
      if (box) { box.checked = !box.checked; sumTicked(current); }
    } else if (event.key === "f") {
      current.querySelectorAll("input.criterion").forEach((box) => { box.checked = true; });
      current.querySelector("input.points").value = fmt(question.dataset.max);
    } else if (event.key === "0") {
      current.querySelectorAll("input.criterion").forEach((box) => { box.checked = false; });
      current.querySelector("input.points").value = "0";
    } else if (event.key === "c") {
      event.preventDefault();
      current.querySelector("textarea.comment").focus();
    } else if (event.key === "j" || event.key === "ArrowDown") {
      event.preventDefault();
      select(all[Math.min(all.length - 1, all.indexOf(current) + 1)]);
    } else if (event.key === "k" || event.key === "ArrowUp") {
      event.preventDefault();
      select(all[Math.max(0, all.indexOf(current) - 1)]);
    } else if (event.key === "n") {
      select(nextUngraded(current));
    } else if (event.key === "g") {
      gradeGroup(current.dataset.group, current.dataset.group === "blank");
    }
  });
  select(nextUngraded(null) || cards()[0]);
}

// ---------------------------------------------------------------- overrides (student page)

function setupStudent() {
  const student = document.getElementById("student").dataset.student;
  document.addEventListener("click", async (event) => {
    if (!event.target.matches("button.override")) return;
    const row = event.target.closest("tr");
    const span = row.querySelector(".message");
    const result = await post("/api/override", {
      student: student, item: row.dataset.item,
      points: row.querySelector(".override-points").value, reason: row.querySelector(".override-reason").value,
    });
    if (result.status === 200) {
      row.querySelector(".score").textContent = fmt(result.data.override.points) + " (overridden)";
      span.textContent = "saved";
      span.classList.remove("error");
    } else {
      span.textContent = result.data.error || ("error " + result.status);
      span.classList.add("error");
    }
  });
}

document.addEventListener("DOMContentLoaded", () => {
  const name = document.getElementById("grader-name");
  name.value = graderName();
  name.addEventListener("change", () => localStorage.setItem("grader-name", name.value.trim() || "instructor"));
  if (question) setupQuestion();
  if (document.getElementById("student")) setupStudent();
});
