-- Contact tasks of the citizens an operator registered (issue 16): a Social
-- Point desk may register a citizen of another municipality of the district
-- (a shared desk). The contact tasks of that citizen's cases belong to the
-- citizen's municipality, so until now the operator who registered them,
-- and who is the one the citizen knows, saw none of them.
--
-- An operator now sees, besides the tasks of their own municipality, the
-- contact tasks (tasks.kind = 'contact') of citizens they registered
-- themselves (users.registered_by, set by the desk's registration), and may
-- record their outcome, which goes on the case timeline. Only the operator
-- who registered: colleagues of the same municipality are not included, as
-- teams are review teams of a form, not desk teams, and the citizen's own
-- municipality and the district's supervisors already see these tasks.
-- Review tasks and the rest of the case stay with the case's municipality.
--
-- The check reads contact_tasks and users past their row-level security
-- (contact_tasks' own policy reads tasks: reading it from the tasks policy
-- would recurse), as the tables' owner; it answers yes or no, nothing else.
CREATE FUNCTION sportello_registered_contact(task uuid) RETURNS boolean
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
  SELECT EXISTS (SELECT 1 FROM contact_tasks ct JOIN users u ON u.id = ct.citizen_id
    WHERE ct.task_id = task AND u.registered_by = sportello_user())
$$;
REVOKE ALL ON FUNCTION sportello_registered_contact(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION sportello_registered_contact(uuid) TO sportello_app;

-- Does the case have a contact task of a citizen the current user registered?
CREATE FUNCTION sportello_registered_contact_case(c text) RETURNS boolean
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
  SELECT EXISTS (SELECT 1 FROM tasks t JOIN contact_tasks ct ON ct.task_id = t.id JOIN users u ON u.id = ct.citizen_id
    WHERE t.case_id = c AND t.kind = 'contact' AND u.registered_by = sportello_user())
$$;
REVOKE ALL ON FUNCTION sportello_registered_contact_case(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION sportello_registered_contact_case(text) TO sportello_app;

DROP POLICY tasks_tenant ON tasks;
CREATE POLICY tasks_tenant ON tasks
  USING (CASE (SELECT sportello_scope())
    WHEN 'system'     THEN true
    WHEN 'supervisor' THEN district_id = (SELECT sportello_district())
    WHEN 'operator'   THEN district_id = (SELECT sportello_district())
                           AND (municipality_id = (SELECT sportello_municipality())
                                OR (kind = 'contact' AND sportello_registered_contact(id)))
    ELSE false
  END)
  WITH CHECK (CASE (SELECT sportello_scope())
    WHEN 'system'     THEN true
    WHEN 'supervisor' THEN district_id = (SELECT sportello_district())
    WHEN 'operator'   THEN district_id = (SELECT sportello_district())
                           AND (municipality_id = (SELECT sportello_municipality())
                                OR (kind = 'contact' AND sportello_registered_contact(id)))
    ELSE false
  END);

-- The outcome of such a contact goes on the case's timeline: the operator
-- may add the contact events (contact_phoned, contact_unreachable, ...) of
-- that case and read them back (INSERT ... ON CONFLICT DO NOTHING checks the
-- new row against the SELECT policies too), not the rest of the timeline.
CREATE POLICY case_events_registered_contact_insert ON case_events FOR INSERT
  WITH CHECK ((SELECT sportello_scope()) = 'operator' AND type LIKE 'contact\_%'
              AND sportello_registered_contact_case(case_id));
CREATE POLICY case_events_registered_contact_read ON case_events FOR SELECT
  USING ((SELECT sportello_scope()) = 'operator' AND type LIKE 'contact\_%'
         AND sportello_registered_contact_case(case_id));

---- create above / drop below ----

DROP POLICY case_events_registered_contact_read ON case_events;
DROP POLICY case_events_registered_contact_insert ON case_events;

DROP POLICY tasks_tenant ON tasks;
CREATE POLICY tasks_tenant ON tasks
  USING (CASE (SELECT sportello_scope())
    WHEN 'system'     THEN true
    WHEN 'supervisor' THEN district_id = (SELECT sportello_district())
    WHEN 'operator'   THEN district_id = (SELECT sportello_district())
                           AND municipality_id = (SELECT sportello_municipality())
    ELSE false
  END)
  WITH CHECK (CASE (SELECT sportello_scope())
    WHEN 'system'     THEN true
    WHEN 'supervisor' THEN district_id = (SELECT sportello_district())
    WHEN 'operator'   THEN district_id = (SELECT sportello_district())
                           AND municipality_id = (SELECT sportello_municipality())
    ELSE false
  END);

DROP FUNCTION sportello_registered_contact_case(text);
DROP FUNCTION sportello_registered_contact(uuid);
