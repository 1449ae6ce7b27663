import { CATALOGUES, DEFAULT_LANGUAGE, type Language, type LanguageCatalogue } from '@reservkort/domain';
import { createContext, type ReactNode, useContext, useEffect, useMemo, useState } from 'react';
import { UI_TEXTS, type UiTexts } from './ui-texts.js';

interface LanguageContextValue {
  readonly language: Language;
  readonly setLanguage: (language: Language) => void;
  /** The page's own texts. */
  readonly t: UiTexts;
  /** The domain's catalogue: codes, step titles, control labels. */
  readonly catalogue: LanguageCatalogue;
}

const LanguageContext = createContext<LanguageContextValue | null>(null);
const STORAGE_KEY = 'reservkort.language';

const initialLanguage = (): Language => {
  const stored = globalThis.localStorage?.getItem(STORAGE_KEY);
  return stored === 'en' || stored === 'sv' ? stored : DEFAULT_LANGUAGE;
};

export const LanguageProvider = ({ children }: { readonly children: ReactNode }) => {
  const [language, setLanguage] = useState<Language>(initialLanguage);
  useEffect(() => {
    document.documentElement.lang = language;
    localStorage.setItem(STORAGE_KEY, language);
  }, [language]);
  const value = useMemo(
    () => ({ language, setLanguage, t: UI_TEXTS[language], catalogue: CATALOGUES[language] }),
    [language],
  );
  return <LanguageContext.Provider value={value}>{children}</LanguageContext.Provider>;
};

export const useLanguage = (): LanguageContextValue => {
  const value = useContext(LanguageContext);
  if (value === null) throw new Error('useLanguage outside LanguageProvider');
  return value;
};
