import i18n from "i18next";
import { initReactI18next } from "react-i18next";
import vi from "./locales/vi.json";
import en from "./locales/en.json";
// One namespace per area of the portal (its own file), next to the shared catalogue.
import viServices from "./locales/vi/services.json";
import enServices from "./locales/en/services.json";
import viInvoices from "./locales/vi/invoices.json";
import enInvoices from "./locales/en/invoices.json";
import viAccount from "./locales/vi/account.json";
import enAccount from "./locales/en/account.json";
import viAccess from "./locales/vi/access.json";
import enAccess from "./locales/en/access.json";
import viStaff from "./locales/vi/staff.json";
import enStaff from "./locales/en/staff.json";
import viSupport from "./locales/vi/support.json";
import enSupport from "./locales/en/support.json";
import viRepairs from "./locales/vi/repairs.json";
import enRepairs from "./locales/en/repairs.json";
import viCrm from "./locales/vi/crm.json";
import enCrm from "./locales/en/crm.json";
import viCare from "./locales/vi/care.json";
import enCare from "./locales/en/care.json";
import viNotifications from "./locales/vi/notifications.json";
import enNotifications from "./locales/en/notifications.json";
import { dayjs } from "./lib/format";

export const LANGUAGES = ["vi", "en"] as const;
export type Language = (typeof LANGUAGES)[number];
// A UI preference, not a secret: fine in localStorage (tokens never go there).
const STORAGE_KEY = "portal.language";

function stored(): Language {
  try {
    const value = localStorage.getItem(STORAGE_KEY);
    return value === "en" ? "en" : "vi";
  } catch {
    return "vi";
  }
}

export function setLanguage(language: Language): void {
  try {
    localStorage.setItem(STORAGE_KEY, language);
  } catch {
    // private mode: the choice lasts for this page only
  }
  void i18n.changeLanguage(language);
}

i18n.on("languageChanged", (language) => {
  document.documentElement.lang = language;
  dayjs.locale(language === "vi" ? "vi" : "en");
});

void i18n.use(initReactI18next).init({
  resources: {
    vi: {
      translation: vi,
      services: viServices,
      invoices: viInvoices,
      account: viAccount,
      staff: viStaff,
      support: viSupport,
      repairs: viRepairs,
      crm: viCrm,
      care: viCare,
      notifications: viNotifications,
      access: viAccess,
    },
    en: {
      translation: en,
      services: enServices,
      invoices: enInvoices,
      account: enAccount,
      staff: enStaff,
      support: enSupport,
      repairs: enRepairs,
      crm: enCrm,
      care: enCare,
      notifications: enNotifications,
      access: enAccess,
    },
  },
  lng: stored(),
  fallbackLng: "vi",
  interpolation: { escapeValue: false },
  returnNull: false,
});

export default i18n;
