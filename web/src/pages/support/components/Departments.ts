import { useQuery } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { ticketsApi } from "../api";

/**
 * The departments a ticket can go to (from the tickets service), named in the reader's
 * language where the catalogue knows the department, else as the service names it.
 */
export function useDepartments() {
  const { t } = useTranslation("support");
  const query = useQuery({ queryKey: ["ticket-departments"], queryFn: ticketsApi.departments, staleTime: 10 * 60_000 });
  const items = query.data?.items ?? [];
  const name = (id: string) =>
    t(`departments.${id}`, { defaultValue: items.find((d) => d.id === id)?.name ?? id });
  return { options: items.map((d) => ({ value: d.id, label: name(d.id) })), name };
}
