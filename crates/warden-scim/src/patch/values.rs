//! Multi-valued attributes under PATCH: while the operations of one request run, each multi-valued attribute they
//! touch is held as a [`ValueList`], so that an operation costs what it touches, not the whole attribute.
//!
//! - Values are indexed by identity: their `value` (folded as the attribute compares it) and `type`, or the whole
//!   value when it has no `value`. An `add` finds the value it merges into without comparing against every value;
//!   a removal by value (Entra ID's `Remove members` with a value array) and a filter with `value eq "x"` (how Okta
//!   and Entra ID remove members) look at the values with that `value` only.
//! - A removed value leaves a hole until the list is put back into the resource, so removing shifts nothing.
//! - The primary values are tracked, so keeping one primary does not scan the values.
//!
//! Filters without `value eq` and sub-attribute paths without a filter (`emails.type`) still visit every value;
//! those visits are counted against [`crate::patch::MAX_PATCH_VALUE_VISITS`] by the caller's budget.

use std::collections::{BTreeSet, HashMap};

use serde_json::Value;

use crate::error::ScimError;
use crate::filter::{CompareOperator, CompareValue, Filter, matches_element};
use crate::json::get_ignore_case;
use crate::normalize::{is_unassigned, normalize_attribute, normalize_single};
use crate::patch::edit::{merge_into, no_match, seed_from_filter, set_sub_attribute};
use crate::patch::request::PatchOperationKind;
use crate::schema::{AttributeDefinition, AttributeType};

/// What one PATCH request may still spend on visiting values one by one.
pub(crate) struct Budget {
    left: usize,
    limit: usize,
}

impl Budget {
    pub(crate) fn new(limit: usize) -> Budget {
        Budget { left: limit, limit }
    }

    /// Spends `visits`, or fails with `tooMany` when the request would visit more values than its limit.
    pub(crate) fn spend(&mut self, visits: usize) -> Result<(), ScimError> {
        match self.left.checked_sub(visits) {
            Some(left) => {
                self.left = left;
                Ok(())
            }
            None => Err(ScimError::TooMany(format!(
                "the operations would examine more than {} values one by one (filters without `value eq` and \
                 sub-attribute paths visit every value); send them in several requests",
                self.limit
            ))),
        }
    }
}

/// The values of one multi-valued attribute while a PATCH runs.
pub(crate) struct ValueList<'a> {
    attribute: &'a AttributeDefinition,
    /// The values in order; `None` where one was removed.
    slots: Vec<Option<Value>>,
    live: usize,
    /// Positions of values that have a `value`, by its folded text.
    by_value: HashMap<String, Positions>,
    /// Positions of values without a `value` (and of scalars), by their folded JSON.
    by_whole: HashMap<String, BTreeSet<usize>>,
    /// Positions of values with `primary: true`.
    primaries: BTreeSet<usize>,
}

/// The positions of the values sharing one `value`, split by `type` (a value without `type` goes with any).
#[derive(Default)]
struct Positions {
    all: BTreeSet<usize>,
    untyped: BTreeSet<usize>,
    typed: HashMap<String, BTreeSet<usize>>,
}

/// What makes two values of a multi-valued attribute the same value: equal `value` (case-insensitively unless
/// caseExact) with compatible `type` (equal, or one of them has none), or equal JSON for values without `value`.
enum Identity {
    Value { key: String, kind: Option<String> },
    Whole(String),
}

impl<'a> ValueList<'a> {
    /// The list of a stored value (an array, a single value, or nothing).
    pub(crate) fn new(attribute: &'a AttributeDefinition, value: Option<Value>) -> ValueList<'a> {
        let items = match value {
            Some(Value::Array(items)) => items,
            None | Some(Value::Null) => Vec::new(),
            Some(other) => vec![other],
        };
        let mut list = ValueList {
            attribute,
            slots: Vec::with_capacity(items.len()),
            live: 0,
            by_value: HashMap::new(),
            by_whole: HashMap::new(),
            primaries: BTreeSet::new(),
        };
        for item in items {
            list.push(item);
        }
        list
    }

    /// How many values the list holds.
    pub(crate) fn live(&self) -> usize {
        self.live
    }

    /// The values in order, as stored: `None` when there are none (the attribute is unassigned).
    pub(crate) fn into_value(self) -> Option<Value> {
        let items: Vec<Value> = self.slots.into_iter().flatten().collect();
        if items.is_empty() { None } else { Some(Value::Array(items)) }
    }

    fn live_positions(&self) -> Vec<usize> {
        self.slots.iter().enumerate().filter(|(_, slot)| slot.is_some()).map(|(position, _)| position).collect()
    }

    fn push(&mut self, item: Value) -> usize {
        let position = self.slots.len();
        self.slots.push(Some(item));
        self.live += 1;
        self.index(position);
        position
    }

    fn clear(&mut self) {
        self.slots.clear();
        self.live = 0;
        self.by_value.clear();
        self.by_whole.clear();
        self.primaries.clear();
    }

    fn remove(&mut self, position: usize) {
        if self.slots.get(position).is_some_and(Option::is_some) {
            self.unindex(position);
            self.slots[position] = None;
            self.live -= 1;
        }
    }

    /// Changes the value at `position` in place, keeping the index true.
    fn modify(
        &mut self,
        position: usize,
        change: impl FnOnce(&mut Value) -> Result<(), ScimError>,
    ) -> Result<(), ScimError> {
        if !self.slots.get(position).is_some_and(Option::is_some) {
            return Ok(());
        }
        self.unindex(position);
        let outcome = match self.slots[position].as_mut() {
            Some(item) => change(item),
            None => Ok(()),
        };
        self.index(position);
        outcome
    }

    fn remove_if_unassigned(&mut self, position: usize) {
        if self.slots.get(position).is_some_and(|slot| slot.as_ref().is_some_and(|item| is_unassigned(Some(item)))) {
            self.remove(position);
        }
    }

    fn identity(&self, item: &Value) -> Identity {
        identity(self.attribute, item)
    }

    fn index(&mut self, position: usize) {
        let Some(Some(item)) = self.slots.get(position) else { return };
        if is_primary(item) {
            self.primaries.insert(position);
        }
        match self.identity(item) {
            Identity::Value { key, kind } => {
                let positions = self.by_value.entry(key).or_default();
                positions.all.insert(position);
                match kind {
                    Some(kind) => positions.typed.entry(kind).or_default().insert(position),
                    None => positions.untyped.insert(position),
                };
            }
            Identity::Whole(key) => {
                self.by_whole.entry(key).or_default().insert(position);
            }
        }
    }

    fn unindex(&mut self, position: usize) {
        let Some(Some(item)) = self.slots.get(position) else { return };
        self.primaries.remove(&position);
        match self.identity(item) {
            Identity::Value { key, kind } => {
                let Some(positions) = self.by_value.get_mut(&key) else { return };
                positions.all.remove(&position);
                match kind {
                    Some(kind) => {
                        if let Some(typed) = positions.typed.get_mut(&kind) {
                            typed.remove(&position);
                            if typed.is_empty() {
                                positions.typed.remove(&kind);
                            }
                        }
                    }
                    None => {
                        positions.untyped.remove(&position);
                    }
                }
                if positions.all.is_empty() {
                    self.by_value.remove(&key);
                }
            }
            Identity::Whole(key) => {
                if let Some(positions) = self.by_whole.get_mut(&key) {
                    positions.remove(&position);
                    if positions.is_empty() {
                        self.by_whole.remove(&key);
                    }
                }
            }
        }
    }

    /// The first value that is the same value as one with this identity.
    fn first_same(&self, identity: &Identity) -> Option<usize> {
        match identity {
            Identity::Value { key, kind } => {
                let positions = self.by_value.get(key)?;
                match kind {
                    None => positions.all.first().copied(),
                    Some(kind) => {
                        let typed = positions.typed.get(kind).and_then(|typed| typed.first().copied());
                        let untyped = positions.untyped.first().copied();
                        typed.into_iter().chain(untyped).min()
                    }
                }
            }
            Identity::Whole(key) => self.by_whole.get(key).and_then(|positions| positions.first().copied()),
        }
    }

    /// Every value that is the same value as one with this identity.
    fn all_same(&self, identity: &Identity) -> BTreeSet<usize> {
        match identity {
            Identity::Value { key, kind } => match self.by_value.get(key) {
                None => BTreeSet::new(),
                Some(positions) => match kind {
                    None => positions.all.clone(),
                    Some(kind) => {
                        let mut same = positions.untyped.clone();
                        if let Some(typed) = positions.typed.get(kind) {
                            same.extend(typed.iter().copied());
                        }
                        same
                    }
                },
            },
            Identity::Whole(key) => self.by_whole.get(key).cloned().unwrap_or_default(),
        }
    }

    /// Keeps `primary: true` on at most one value: the last touched value that has it wins, else the last one
    /// that has it.
    fn enforce_single_primary(&mut self, touched: &[usize]) {
        let winner = touched
            .iter()
            .rev()
            .copied()
            .find(|position| self.primaries.contains(position))
            .or_else(|| self.primaries.last().copied());
        let Some(winner) = winner else { return };
        let losers: Vec<usize> = self.primaries.iter().copied().filter(|position| *position != winner).collect();
        for position in losers {
            if let Some(Some(Value::Object(object))) = self.slots.get_mut(position) {
                crate::json::insert_canonical(object, "primary", Value::Bool(false));
            }
            self.primaries.remove(&position);
        }
    }

    /// The values that may match a value filter: those whose `value` the filter names with `eq`, when it does (a
    /// superset of the matches); else every value. Ascending.
    fn filter_candidates(&self, filter: &Filter) -> Vec<usize> {
        let value_definition = self.attribute.sub_attribute("value").filter(|definition| {
            matches!(
                definition.attribute_type,
                AttributeType::String | AttributeType::Reference | AttributeType::Binary
            )
        });
        match value_definition.and_then(|definition| equal_value_text(filter).map(|text| (definition, text))) {
            Some((definition, text)) => {
                let key = fold_text(&text, definition.case_exact);
                self.by_value.get(&key).map(|positions| positions.all.iter().copied().collect()).unwrap_or_default()
            }
            None => self.live_positions(),
        }
    }

    /// The values a value filter matches, ascending; the values it had to look at are spent from `budget`.
    fn matching(&self, filter: &Filter, budget: &mut Budget) -> Result<Vec<usize>, ScimError> {
        let candidates = self.filter_candidates(filter);
        budget.spend(candidates.len())?;
        Ok(candidates
            .into_iter()
            .filter(|position| {
                self.slots[*position]
                    .as_ref()
                    .is_some_and(|item| item.is_object() && matches_element(filter, item, Some(self.attribute)))
            })
            .collect())
    }
}

/// `add`, `replace` or `remove` on the whole attribute (`members`, `emails`).
pub(crate) fn whole_attribute(
    list: &mut ValueList<'_>,
    kind: PatchOperationKind,
    value: Option<&Value>,
) -> Result<(), ScimError> {
    let attribute = list.attribute;
    if kind == PatchOperationKind::Remove {
        match value {
            Some(value) if !value.is_null() => {
                let Some(Value::Array(to_remove)) = normalize_attribute(attribute, value)? else { return Ok(()) };
                let mut doomed = BTreeSet::new();
                for removed in &to_remove {
                    doomed.extend(list.all_same(&identity(attribute, removed)));
                }
                for position in doomed {
                    list.remove(position);
                }
            }
            _ => list.clear(),
        }
        return Ok(());
    }
    let Some(value) = value else { return Ok(()) };
    let Some(new) = normalize_attribute(attribute, value)? else {
        if kind == PatchOperationKind::Replace {
            list.clear();
        }
        return Ok(());
    };
    let new_items = match new {
        Value::Array(items) => items,
        other => vec![other],
    };
    if kind == PatchOperationKind::Replace {
        list.clear();
    }
    let mut touched = Vec::with_capacity(new_items.len());
    for new_item in new_items {
        let same =
            if kind == PatchOperationKind::Add { list.first_same(&identity(attribute, &new_item)) } else { None };
        match same {
            Some(position) => {
                list.modify(position, |item| {
                    merge_into(item, new_item);
                    Ok(())
                })?;
                touched.push(position);
            }
            None => touched.push(list.push(new_item)),
        }
    }
    list.enforce_single_primary(&touched);
    Ok(())
}

/// `emails.type` without a filter: the sub-attribute of every value.
pub(crate) fn every_value_sub_attribute(
    list: &mut ValueList<'_>,
    kind: PatchOperationKind,
    sub: &AttributeDefinition,
    value: Option<&Value>,
    budget: &mut Budget,
) -> Result<(), ScimError> {
    let attribute = list.attribute;
    if list.live() == 0 {
        return match kind {
            PatchOperationKind::Remove => Ok(()),
            _ => Err(ScimError::NoTarget(format!("{} has no values to set {} on", attribute.name, sub.name))),
        };
    }
    budget.spend(list.live())?;
    let positions = list.live_positions();
    for &position in &positions {
        list.modify(position, |item| match item {
            Value::Object(object) => set_sub_attribute(kind, attribute, sub, object, value),
            _ => Ok(()),
        })?;
    }
    for &position in &positions {
        list.remove_if_unassigned(position);
    }
    let touched = list.live_positions();
    list.enforce_single_primary(&touched);
    Ok(())
}

/// `members[value eq "x"]`, `emails[type eq "work"].value`.
pub(crate) fn filtered(
    list: &mut ValueList<'_>,
    kind: PatchOperationKind,
    filter: &Filter,
    sub: Option<&AttributeDefinition>,
    value: Option<&Value>,
    budget: &mut Budget,
) -> Result<(), ScimError> {
    let attribute = list.attribute;
    let matched = list.matching(filter, budget)?;
    if kind == PatchOperationKind::Remove {
        match sub {
            Some(sub) => {
                for &position in &matched {
                    list.modify(position, |item| match item {
                        Value::Object(object) => set_sub_attribute(kind, attribute, sub, object, value),
                        _ => Ok(()),
                    })?;
                }
                for &position in &matched {
                    list.remove_if_unassigned(position);
                }
            }
            None => {
                for &position in &matched {
                    list.remove(position);
                }
            }
        }
        return Ok(());
    }
    let mut touched = Vec::new();
    match sub {
        Some(sub) => {
            if matched.is_empty() {
                let Some(mut object) = seed_from_filter(filter, attribute) else {
                    return Err(no_match(attribute, filter));
                };
                set_sub_attribute(kind, attribute, sub, &mut object, value)?;
                if let Some(element) = normalize_single(attribute, &Value::Object(object))? {
                    touched.push(list.push(element));
                }
            } else {
                for &position in &matched {
                    list.modify(position, |item| match item {
                        Value::Object(object) => set_sub_attribute(kind, attribute, sub, object, value),
                        _ => Ok(()),
                    })?;
                    touched.push(position);
                }
                for &position in &matched {
                    list.remove_if_unassigned(position);
                }
            }
        }
        None => {
            let value = value.unwrap_or(&Value::Null);
            let Some(new_element) = normalize_single(attribute, value)? else {
                return Err(ScimError::InvalidValue(format!(
                    "the value for a filtered {} path must be a non-empty object",
                    attribute.name
                )));
            };
            let seed = seed_from_filter(filter, attribute);
            let with_seed = |element: Value| -> Result<Value, ScimError> {
                let Some(seed) = &seed else { return Ok(element) };
                let mut seeded = Value::Object(seed.clone());
                merge_into(&mut seeded, element);
                Ok(normalize_single(attribute, &seeded)?.unwrap_or(Value::Null))
            };
            if matched.is_empty() {
                if seed.is_none() && kind == PatchOperationKind::Replace {
                    return Err(no_match(attribute, filter));
                }
                touched.push(list.push(with_seed(new_element)?));
            } else {
                for &position in &matched {
                    if kind == PatchOperationKind::Replace {
                        let replacement = with_seed(new_element.clone())?;
                        list.modify(position, |item| {
                            *item = replacement;
                            Ok(())
                        })?;
                    } else {
                        list.modify(position, |item| {
                            merge_into(item, new_element.clone());
                            Ok(())
                        })?;
                    }
                    touched.push(position);
                }
            }
        }
    }
    list.enforce_single_primary(&touched);
    Ok(())
}

fn is_primary(item: &Value) -> bool {
    get_ignore_case(item, "primary") == Some(&Value::Bool(true))
}

fn identity(attribute: &AttributeDefinition, item: &Value) -> Identity {
    match item {
        Value::Object(_) => match get_ignore_case(item, "value") {
            Some(value) => {
                let case_exact = attribute.sub_attribute("value").is_some_and(|definition| definition.case_exact);
                Identity::Value {
                    key: fold(value, case_exact),
                    kind: get_ignore_case(item, "type").map(|kind| fold(kind, false)),
                }
            }
            None => Identity::Whole(fold(item, true)),
        },
        scalar => Identity::Whole(fold(scalar, attribute.case_exact)),
    }
}

/// A value's text as compared: strings case-folded unless caseExact, anything else as its JSON (serde_json's maps
/// are ordered, so equal JSON prints the same). The prefix keeps a string apart from JSON that prints the same.
fn fold(value: &Value, case_exact: bool) -> String {
    match value {
        Value::String(text) => fold_text(text, case_exact),
        other => format!("j{other}"),
    }
}

fn fold_text(text: &str, case_exact: bool) -> String {
    if case_exact { format!("s{text}") } else { format!("s{}", text.to_lowercase()) }
}

/// The text a filter compares `value` with through `eq`, itself or in one side of an `and` (filters compare
/// numbers and booleans with a string attribute as their text).
fn equal_value_text(filter: &Filter) -> Option<String> {
    match filter {
        Filter::Compare { path, operator: CompareOperator::Equal, value }
            if path.urn.is_none() && path.sub_attribute.is_none() && path.name.eq_ignore_ascii_case("value") =>
        {
            match value {
                CompareValue::String(text) => Some(text.clone()),
                CompareValue::Number(number) => Some(number.to_string()),
                CompareValue::Boolean(flag) => Some(flag.to_string()),
                CompareValue::Null => None,
            }
        }
        Filter::And(left, right) => equal_value_text(left).or_else(|| equal_value_text(right)),
        _ => None,
    }
}
