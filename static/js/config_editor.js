/*
 * The structured editor of a voucher type configuration, on the admin's change page.
 *
 * It draws the definition held in the page's JSON textarea (#id_definition) as rows and
 * controls, from the UI schema the server derives from the meta-schema (the json_script
 * #config-editor-data), and writes every change back into that textarea, which is what the
 * form posts: the server validates and saves exactly what it would without this script. The
 * textarea stays available as the "Advanced (JSON)" view. Nothing is rewritten until something
 * is changed, so a definition opened and saved unchanged comes back identical.
 *
 * Problems the server found arrive with their JSON paths and are shown at the control of that
 * path (or the nearest one drawn). No inline script or style: it runs under script-src 'self'.
 */
(function () {
  "use strict";

  var dataNode = document.getElementById("config-editor-data");
  var textarea = document.getElementById("id_definition");
  if (!dataNode || !textarea) {
    return;
  }
  var data = JSON.parse(dataNode.textContent);
  var ui = data.schema;
  var problems = data.problems || [];
  var jsonRow = textarea.closest(".form-row") || textarea.parentNode;
  var definition = null;

  // --- small builders -----------------------------------------------------------------------

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      var value = attrs[name];
      if (value === null || value === undefined || value === false) {
        return;
      }
      if (name === "text") {
        node.textContent = value;
      } else if (name === "class") {
        node.className = value;
      } else if (value === true) {
        node.setAttribute(name, "");
      } else {
        node.setAttribute(name, String(value));
      }
    });
    (children || []).forEach(function (child) {
      if (child) {
        node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
      }
    });
    return node;
  }

  function idFor(path) {
    return "cfg-" + path.replace(/[\[\].]+/g, "-").replace(/-+$/, "");
  }

  function button(text, attrs, onClick) {
    var node = el("button", Object.assign({ type: "button", text: text }, attrs || {}));
    node.addEventListener("click", function (event) {
      event.preventDefault();
      onClick();
    });
    return node;
  }

  function humanize(name) {
    var text = String(name).replace(/_/g, " ");
    return text.charAt(0).toUpperCase() + text.slice(1);
  }

  // --- keeping the textarea in step ---------------------------------------------------------

  function written() {
    textarea.value = JSON.stringify(definition, null, 2);
  }

  function changed() {
    written();
  }

  function restructured() {
    written();
    problems = []; // their paths may point elsewhere now; the next save checks again
    render();
  }

  // --- one control for one schema property --------------------------------------------------

  // A labelled control for `owner[name]`, described by `spec` (from the UI schema).
  function control(owner, name, spec, path, label, options) {
    options = options || {};
    var id = idFor(path);
    var wrapper = el("div", { class: "editor-control editor-control-" + spec.input, "data-path": path });
    var value = owner()[name];
    var input;

    function store(newValue, remove) {
      var target = owner(true);
      if (remove) {
        delete target[name];
      } else {
        target[name] = newValue;
      }
      if (options.onChange) {
        options.onChange(newValue);
      } else {
        changed();
      }
    }

    if (spec.input === "checkbox") {
      input = el("input", { type: "checkbox", id: id, checked: value === true });
      input.addEventListener("change", function () {
        var had = Object.prototype.hasOwnProperty.call(owner(), name);
        store(input.checked, !input.checked && !had);
      });
      wrapper.appendChild(input);
      wrapper.appendChild(el("label", { for: id, class: "vCheckboxLabel", text: label }));
      return wrapper;
    }
    wrapper.appendChild(el("label", { for: id, text: label, class: options.required ? "required" : "" }));
    if (spec.input === "select" || options.choices) {
      input = el("select", { id: id });
      var choices = options.choices || spec.options.map(function (option) {
        return [option, option === "" ? "(none)" : humanize(option)];
      });
      if (!options.required) {
        input.appendChild(el("option", { value: "", text: "—" }));
      }
      var known = false;
      choices.forEach(function (choice) {
        var selected = value === choice[0];
        known = known || selected;
        input.appendChild(el("option", { value: choice[0], text: choice[1], selected: selected }));
      });
      if (value !== undefined && value !== null && !known) {
        input.appendChild(el("option", { value: String(value), text: String(value) + " (not valid)", selected: true }));
      }
      input.addEventListener("change", function () {
        store(input.value, input.value === "" && !options.required);
      });
    } else if (spec.input === "number") {
      input = el("input", {
        type: "number",
        id: id,
        step: spec.step,
        min: spec.minimum,
        max: spec.maximum,
        value: value === undefined || value === null ? "" : value,
      });
      input.addEventListener("change", function () {
        var text = input.value.trim();
        var number = Number(text);
        store(text === "" || isNaN(number) ? text : number, text === "");
      });
    } else {
      var multiline = options.multiline;
      input = el(multiline ? "textarea" : "input", {
        type: multiline ? null : "text",
        id: id,
        rows: multiline ? 2 : null,
        maxlength: spec.maxlength,
        pattern: spec.pattern,
        placeholder: options.placeholder,
        class: "vTextField",
      });
      input.value = value === undefined || value === null ? "" : String(value);
      input.addEventListener("change", function () {
        var text = input.value;
        store(text, text === "" && !options.required);
      });
    }
    wrapper.appendChild(input);
    if (options.help) {
      wrapper.appendChild(el("div", { class: "help", text: options.help }));
    }
    return wrapper;
  }

  function objectAt(parent, key) {
    // An accessor for parent[key], made on the first write when it is missing.
    return function (create) {
      if (!parent[key] && create) {
        parent[key] = {};
      }
      return parent[key] || {};
    };
  }

  function constant(object) {
    return function () {
      return object;
    };
  }

  // --- moving things in lists ---------------------------------------------------------------

  function swap(list, a, b) {
    var item = list[a];
    list[a] = list[b];
    list[b] = item;
  }

  function headerSections() {
    return (definition.layout && definition.layout.header_sections) || [];
  }

  function lineColumns() {
    return (definition.layout && definition.layout.line_columns) || [];
  }

  function sectionOf(key) {
    var found = -1;
    headerSections().forEach(function (section, index) {
      if (section.fields.indexOf(key) !== -1) {
        found = index;
      }
    });
    return found;
  }

  // Moves a field and, where both fields sit in the same section (or both are columns), the
  // place the layout gives it, so the entry screen shows the order the editor shows.
  function moveField(section, index, by) {
    var fields = definition[section];
    var other = index + by;
    if (other < 0 || other >= fields.length) {
      return;
    }
    var a = fields[index].key;
    var b = fields[other].key;
    swap(fields, index, other);
    if (section === "header_fields") {
      var at = sectionOf(a);
      if (at !== -1 && at === sectionOf(b)) {
        var keys = headerSections()[at].fields;
        swap(keys, keys.indexOf(a), keys.indexOf(b));
      }
    } else {
      var columns = lineColumns();
      var ca = columns.findIndex(function (c) { return c.field === a; });
      var cb = columns.findIndex(function (c) { return c.field === b; });
      if (ca !== -1 && cb !== -1) {
        swap(columns, ca, cb);
      }
    }
    restructured();
    var moved = document.getElementById(idFor(section + "[" + other + "]"));
    if (moved) {
      var again = moved.querySelector(by < 0 ? ".move-up" : ".move-down") || moved.querySelector("button");
      if (again) {
        again.focus();
      }
    }
  }

  function removeField(section, index) {
    var key = definition[section][index].key;
    definition[section].splice(index, 1);
    headerSections().forEach(function (s) {
      if (section === "header_fields") {
        s.fields = s.fields.filter(function (k) { return k !== key; });
      }
    });
    if (section === "line_fields" && definition.layout && definition.layout.line_columns) {
      definition.layout.line_columns = lineColumns().filter(function (c) { return c.field !== key; });
    }
    restructured();
  }

  function unusedKey(section) {
    var taken = {};
    ["header_fields", "line_fields"].forEach(function (s) {
      (definition[s] || []).forEach(function (f) { taken[f.key] = true; });
    });
    var n = 1;
    while (taken["custom_field_" + n]) {
      n += 1;
    }
    return "custom_field_" + n;
  }

  function addField(section) {
    var field = Object.assign({}, ui.new_field, { key: unusedKey(section) });
    definition[section] = definition[section] || [];
    definition[section].push(field);
    if (section === "header_fields" && headerSections().length) {
      headerSections()[headerSections().length - 1].fields.push(field.key);
    }
    if (section === "line_fields" && lineColumns().length) {
      definition.layout.line_columns.push({ field: field.key });
    }
    restructured();
    var added = document.getElementById(idFor(section + "[" + (definition[section].length - 1) + "].label"));
    if (added) {
      added.focus();
      added.select();
    }
  }

  // A key renamed: the layout and the posting rule follow it.
  function renameKey(oldKey, newKey) {
    if (!oldKey || oldKey === newKey) {
      return;
    }
    headerSections().forEach(function (s) {
      s.fields = s.fields.map(function (k) { return k === oldKey ? newKey : k; });
    });
    lineColumns().forEach(function (c) {
      if (c.field === oldKey) {
        c.field = newKey;
      }
    });
    var posting = definition.posting || {};
    Object.keys(posting).forEach(function (name) {
      if (name !== "rule" && posting[name] === oldKey) {
        posting[name] = newKey;
      }
    });
  }

  // --- a field ------------------------------------------------------------------------------

  function applies(property, type) {
    return !property.types || property.types.indexOf(type) !== -1;
  }

  function choicesControl(field, path) {
    var box = el("div", { class: "editor-control editor-choices", "data-path": path });
    box.appendChild(el("span", { class: "editor-group-label", text: "Choices" }));
    var table = el("table", { class: "editor-choice-table" });
    table.appendChild(el("thead", {}, [el("tr", {}, [
      el("th", { scope: "col", text: "Stored value" }),
      el("th", { scope: "col", text: "Shown as" }),
      el("th", { scope: "col" }, [el("span", { class: "visually-hidden", text: "Actions" })]),
    ])]));
    var body = el("tbody");
    (field.choices || []).forEach(function (choice, index) {
      var at = path + "[" + index + "]";
      var row = el("tr", { "data-path": at });
      ["value", "label"].forEach(function (part) {
        var input = el("input", {
          type: "text",
          id: idFor(at + "." + part),
          "aria-label": (part === "value" ? "Stored value" : "Shown as") + " of choice " + (index + 1),
          class: "vTextField",
        });
        input.value = choice[part] === undefined ? "" : choice[part];
        input.addEventListener("change", function () {
          choice[part] = input.value;
          changed();
        });
        row.appendChild(el("td", { "data-path": at + "." + part }, [input]));
      });
      row.appendChild(el("td", { class: "editor-actions" }, [
        button("Up", { "aria-label": "Move choice " + (index + 1) + " up", disabled: index === 0 }, function () {
          swap(field.choices, index, index - 1);
          restructured();
        }),
        button("Remove", { "aria-label": "Remove choice " + (index + 1), class: "editor-remove" }, function () {
          field.choices.splice(index, 1);
          restructured();
        }),
      ]));
      body.appendChild(row);
    });
    table.appendChild(body);
    box.appendChild(table);
    box.appendChild(button("Add choice", { id: idFor(path) + "-add", class: "editor-add" }, function () {
      field.choices = field.choices || [];
      field.choices.push({ value: "", label: "" });
      restructured();
      var input = document.getElementById(idFor(path + "[" + (field.choices.length - 1) + "].value"));
      if (input) {
        input.focus();
      }
    }));
    return box;
  }

  function filterControl(field, property, path) {
    var box = el("fieldset", { class: "editor-control editor-filter", "data-path": path });
    box.appendChild(el("legend", { text: "Account filter (none ticked: any account)" }));
    Object.keys(property.properties).forEach(function (part) {
      var options = property.properties[part].options;
      var group = el("div", { class: "editor-checkboxes", "data-path": path + "." + part });
      group.appendChild(el("span", { class: "editor-group-label", text: humanize(part) + ":" }));
      options.forEach(function (option) {
        var id = idFor(path + "." + part + "-" + (option || "none"));
        var chosen = ((field.filter || {})[part] || []).indexOf(option) !== -1;
        var input = el("input", { type: "checkbox", id: id, checked: chosen });
        input.addEventListener("change", function () {
          field.filter = field.filter || {};
          var list = (field.filter[part] || []).filter(function (o) { return o !== option; });
          if (input.checked) {
            list.push(option);
          }
          if (list.length) {
            field.filter[part] = list;
          } else {
            delete field.filter[part];
          }
          if (!Object.keys(field.filter).length) {
            delete field.filter;
          }
          changed();
        });
        group.appendChild(el("span", { class: "editor-checkbox" }, [
          input,
          el("label", { for: id, text: option === "" ? "(no subtype)" : humanize(option) }),
        ]));
      });
      box.appendChild(group);
    });
    return box;
  }

  function defaultControl(field, path) {
    var spec = { input: field.type === "boolean" ? "select" : "text", options: ["true", "false"] };
    var accessor = function () {
      var shown = {};
      if (field.default !== undefined && field.default !== null) {
        shown.default = typeof field.default === "boolean" ? String(field.default) : field.default;
      }
      return shown;
    };
    var hints = { date: "today", account: "account code", party: "party code", choice: "stored value" };
    return control(accessor, "default", spec, path, "Default", {
      placeholder: hints[field.type] || "",
      choices: field.type === "boolean" ? [["true", "Yes"], ["false", "No"]] : null,
      onChange: function (value) {
        if (value === "" || value === undefined) {
          delete field.default;
        } else if (field.type === "boolean") {
          field.default = value === "true";
        } else {
          field.default = value;
        }
        changed();
      },
    });
  }

  function fieldCard(section, field, index, count) {
    var path = section + "[" + index + "]";
    var noun = section === "header_fields" ? "Header field" : "Line column";
    var card = el("fieldset", { class: "editor-field module", id: idFor(path), "data-path": path });
    card.appendChild(el("legend", { text: noun + " " + (index + 1) + ": " + (field.label || field.key) }));
    card.appendChild(el("div", { class: "editor-actions" }, [
      button("Move up", { class: "move-up", "aria-label": "Move " + (field.label || field.key) + " up", disabled: index === 0 }, function () {
        moveField(section, index, -1);
      }),
      button("Move down", { class: "move-down", "aria-label": "Move " + (field.label || field.key) + " down", disabled: index === count - 1 }, function () {
        moveField(section, index, 1);
      }),
      button("Remove", { class: "editor-remove", "aria-label": "Remove " + (field.label || field.key) }, function () {
        if (window.confirm("Remove the field " + (field.label || field.key) + "?")) {
          removeField(section, index);
        }
      }),
    ]));
    var main = el("div", { class: "editor-row editor-row-main" });
    var more = el("div", { class: "editor-row" });
    ui.field.forEach(function (property) {
      if (!applies(property, field.type)) {
        return;
      }
      var at = path + "." + property.name;
      var node;
      if (property.name === "choices") {
        node = choicesControl(field, at);
      } else if (property.name === "filter") {
        node = filterControl(field, property, at);
      } else if (property.name === "default") {
        node = defaultControl(field, at);
      } else {
        var options = { required: property.required };
        if (property.name === "key") {
          var before = field.key;
          options.help = "Stored name; letters, digits and _";
          options.onChange = function (value) {
            renameKey(before, value);
            before = value;
            changed();
          };
        }
        if (property.name === "type") {
          options.onChange = function () {
            // Properties the new type does not take are dropped: the validation refuses them.
            ui.field.forEach(function (p) {
              if (!applies(p, field.type)) {
                delete field[p.name];
              }
            });
            delete field.default;
            restructured();
          };
        }
        if (property.name === "help_text") {
          options.multiline = true;
        }
        node = control(constant(field), property.name, property, at, property.label, options);
      }
      (property.main ? main : more).appendChild(node);
    });
    card.appendChild(main);
    if (section === "header_fields" && headerSections().length) {
      card.appendChild(sectionChooser(field, path));
    }
    if (section === "line_fields" && lineColumns().length) {
      card.appendChild(widthControl(field, path));
    }
    card.appendChild(more);
    return card;
  }

  function sectionChooser(field, path) {
    var current = sectionOf(field.key);
    var choices = headerSections().map(function (s, i) { return [String(i), s.title || "Section " + (i + 1)]; });
    var holder = { section: current === -1 ? "" : String(current) };
    return control(constant(holder), "section", { input: "select" }, path + ".section", "Shown in section", {
      choices: choices,
      onChange: function (value) {
        headerSections().forEach(function (s) {
          s.fields = s.fields.filter(function (k) { return k !== field.key; });
        });
        if (value !== "" && value !== undefined) {
          headerSections()[Number(value)].fields.push(field.key);
        }
        restructured();
      },
    });
  }

  function widthControl(field, path) {
    var column = lineColumns().find(function (c) { return c.field === field.key; });
    var holder = column ? { width: column.width } : {};
    return control(constant(holder), "width", ui.column_width, path + ".width", "Column width (%)", {
      onChange: function (value) {
        if (!column) {
          column = { field: field.key };
          definition.layout.line_columns.push(column);
        }
        if (value === "" || value === undefined) {
          delete column.width;
        } else {
          column.width = value;
        }
        changed();
      },
    });
  }

  // --- the panels ---------------------------------------------------------------------------

  function panel(title, path, id, children) {
    return el("fieldset", { class: "module aligned editor-panel", id: id, "data-path": path }, [
      el("h2", { text: title }),
    ].concat(children));
  }

  function generalPanel() {
    return panel("General", "", "editor-general", ["code", "name", "description"].map(function (name) {
      return el("div", { class: "form-row" }, [control(constant(definition), name, ui.general[name], name, humanize(name), {
        required: name !== "description",
        multiline: name === "description",
      })]);
    }));
  }

  function fieldsPanel(section, title, addText) {
    var fields = definition[section] || [];
    var cards = fields.map(function (field, index) { return fieldCard(section, field, index, fields.length); });
    return panel(title, section, "editor-" + section.replace("_", "-"), cards.concat([
      button(addText, { id: "editor-add-" + section.replace("_", "-"), class: "editor-add" }, function () {
        addField(section);
      }),
    ]));
  }

  function sectionsPanel() {
    var sections = headerSections();
    var rows = sections.map(function (section, index) {
      var path = "layout.header_sections[" + index + "]";
      var labels = section.fields.map(function (key) {
        var spec = (definition.header_fields || []).find(function (f) { return f.key === key; });
        return spec ? spec.label : key + " (no such field)";
      });
      return el("div", { class: "editor-section-row", "data-path": path, id: idFor(path) }, [
        control(constant(section), "title", ui.section_title, path + ".title", "Section " + (index + 1) + " title", { required: true }),
        el("p", { class: "help", "data-path": path + ".fields", text: labels.length ? "Fields: " + labels.join(", ") : "No fields yet: choose this section on a header field." }),
        el("div", { class: "editor-actions" }, [
          button("Move up", { "aria-label": "Move section " + (section.title || index + 1) + " up", disabled: index === 0 }, function () {
            swap(sections, index, index - 1);
            restructured();
          }),
          button("Remove", { class: "editor-remove", "aria-label": "Remove section " + (section.title || index + 1) }, function () {
            sections.splice(index, 1);
            restructured();
          }),
        ]),
      ]);
    });
    return panel("Sections of the header", "layout", "editor-sections", [
      el("p", { class: "help", text: "Header fields are shown in these sections, in this order; a field in none is shown under \"More details\"." }),
    ].concat(rows).concat([
      button("Add section", { id: "editor-add-section", class: "editor-add" }, function () {
        definition.layout = definition.layout || {};
        definition.layout.header_sections = definition.layout.header_sections || [];
        definition.layout.header_sections.push({ title: "New section", fields: [] });
        restructured();
      }),
    ]));
  }

  function linesPanel() {
    var lines = objectAt(definition, "lines");
    return panel("Lines", "lines", "editor-lines", Object.keys(ui.lines).map(function (name) {
      return el("div", { class: "form-row" }, [control(lines, name, ui.lines[name], "lines." + name, humanize(name === "min" ? "fewest lines" : name === "max" ? "most lines" : name === "initial" ? "blank lines shown" : name), {
        required: name === "amount_mode",
      })]);
    }));
  }

  function postingPanel() {
    var posting = definition.posting || {};
    var rule = ui.rules[posting.rule];
    var rows = [el("div", { class: "form-row" }, [control(constant(posting), "rule", { input: "select" }, "posting.rule", "Posting rule", {
      required: true,
      choices: Object.keys(ui.rules).map(function (name) { return [name, ui.rules[name].label]; }),
      onChange: function (value) {
        var next = ui.rules[value];
        var kept = { rule: value };
        next.settings.forEach(function (setting) {
          if (posting[setting.name] !== undefined) {
            kept[setting.name] = posting[setting.name];
          }
        });
        definition.posting = kept;
        definition.lines = definition.lines || {};
        definition.lines.amount_mode = next.amount_mode;
        restructured();
      },
    })])];
    if (rule) {
      rule.settings.forEach(function (setting) {
        var path = "posting." + setting.name;
        var options = { required: setting.required };
        if (setting.input === "field") {
          options.choices = (definition[setting.section] || []).filter(function (f) {
            return f.type === setting.field_type;
          }).map(function (f) { return [f.key, f.label + " (" + f.key + ")"]; });
          options.help = "A " + setting.field_type + " field of the " + (setting.section === "header_fields" ? "header" : "lines");
        }
        rows.push(el("div", { class: "form-row" }, [control(constant(posting), setting.name, { input: "select", options: setting.options || [] }, path, setting.label, options)]));
      });
    }
    return panel("Posting rule", "posting", "editor-posting", rows);
  }

  function workflowPanel() {
    var workflow = objectAt(definition, "workflow");
    var labels = { requires_approval: "Needs approval before posting", approver_role: "Approved by", poster_role: "Posted by" };
    return panel("Workflow", "workflow", "editor-workflow", Object.keys(ui.workflow).map(function (name) {
      return el("div", { class: "form-row" }, [control(workflow, name, ui.workflow[name], "workflow." + name, labels[name] || humanize(name))]);
    }));
  }

  function examplesNote() {
    var count = (definition.examples || []).length;
    return el("p", { class: "help editor-examples", "data-path": "examples", text: count + " example entr" + (count === 1 ? "y" : "ies") + " (the preview's sample data, checked by check_voucher_schemas): edited in the Advanced (JSON) view." });
  }

  // --- problems at their place --------------------------------------------------------------

  function parentPath(path) {
    var cut = Math.max(path.lastIndexOf("."), path.lastIndexOf("["));
    return cut > 0 ? path.slice(0, cut) : "";
  }

  function showProblems() {
    problems.forEach(function (problem) {
      if (problem.line) {
        return;
      }
      var path = problem.path;
      var target = null;
      while (path && !target) {
        target = body.querySelector('[data-path="' + path.replace(/"/g, "") + '"]');
        if (!target) {
          path = parentPath(path);
        }
      }
      target = target || body;
      var list = target.querySelector(":scope > .editor-errorlist");
      if (!list) {
        list = el("ul", { class: "errorlist editor-errorlist" });
        target.insertBefore(list, target.firstChild && target.firstChild.nextSibling ? target.firstChild.nextSibling : null);
      }
      target.classList.add("errors");
      var where = problem.path === path ? "" : problem.path + ": ";
      list.appendChild(el("li", { text: where + problem.message }));
    });
  }

  // --- views --------------------------------------------------------------------------------

  var editor = el("div", { id: "config-editor", class: "config-editor" });
  var tabs = el("div", { class: "editor-tabs", role: "group", "aria-label": "Editor view" });
  var structuredTab = button("Structured", { id: "editor-tab-structured", "aria-pressed": "true" }, function () {
    showStructured();
  });
  var advancedTab = button("Advanced (JSON)", { id: "editor-tab-advanced", "aria-pressed": "false" }, function () {
    showAdvanced();
  });
  tabs.appendChild(structuredTab);
  tabs.appendChild(advancedTab);
  var syntaxNote = el("p", { id: "editor-json-problem", class: "errornote", role: "alert", hidden: true });
  var body = el("div", { id: "config-editor-body" });
  editor.appendChild(tabs);
  editor.appendChild(syntaxNote);
  editor.appendChild(body);
  jsonRow.parentNode.insertBefore(editor, jsonRow);

  function render() {
    body.textContent = "";
    [
      generalPanel(),
      fieldsPanel("header_fields", "Header fields", "Add header field"),
      sectionsPanel(),
      fieldsPanel("line_fields", "Line columns", "Add line column"),
      linesPanel(),
      postingPanel(),
      workflowPanel(),
      examplesNote(),
    ].forEach(function (node) { body.appendChild(node); });
    showProblems();
  }

  // Where a JSON.parse error is, as line and column of the text.
  function syntaxPlace(text, error) {
    var message = String(error.message || error);
    var lineColumn = /line (\d+) column (\d+)/.exec(message);
    if (lineColumn) {
      return { line: Number(lineColumn[1]), column: Number(lineColumn[2]), message: message };
    }
    var position = /position (\d+)/.exec(message);
    var offset = position ? Number(position[1]) : text.length;
    var before = text.slice(0, offset).split("\n");
    return { line: before.length, column: before[before.length - 1].length + 1, message: message };
  }

  function showStructured() {
    var parsed;
    try {
      parsed = JSON.parse(textarea.value);
    } catch (error) {
      var place = syntaxPlace(textarea.value, error);
      syntaxNote.textContent = "The JSON cannot be read, so the structured view cannot show it: line " + place.line + ", column " + place.column + " (" + place.message + "). Fix it here first.";
      syntaxNote.hidden = false;
      showAdvanced();
      return;
    }
    if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) {
      syntaxNote.textContent = "The definition must be a JSON object ({ … }) for the structured view.";
      syntaxNote.hidden = false;
      showAdvanced();
      return;
    }
    syntaxNote.hidden = true;
    definition = parsed;
    jsonRow.hidden = true;
    body.hidden = false;
    structuredTab.setAttribute("aria-pressed", "true");
    advancedTab.setAttribute("aria-pressed", "false");
    render();
  }

  function showAdvanced() {
    jsonRow.hidden = false;
    body.hidden = true;
    structuredTab.setAttribute("aria-pressed", "false");
    advancedTab.setAttribute("aria-pressed", "true");
  }

  var syntaxProblem = problems.find(function (p) { return p.line; });
  if (syntaxProblem) {
    syntaxNote.textContent = "JSON syntax error at line " + syntaxProblem.line + ", column " + syntaxProblem.column + ": fix it in the JSON below.";
    syntaxNote.hidden = false;
    showAdvanced();
    var lines = textarea.value.split("\n");
    var offset = lines.slice(0, syntaxProblem.line - 1).join("\n").length + (syntaxProblem.line > 1 ? 1 : 0) + syntaxProblem.column - 1;
    textarea.focus();
    textarea.setSelectionRange(offset, offset + 1);
  } else {
    showStructured();
  }
})();
