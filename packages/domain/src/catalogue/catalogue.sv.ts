import type { LanguageCatalogue } from './language-catalogue.js';

/** Svenska: the product's default language. Screen titles and buttons keep the source's labels. */
export const sv: LanguageCatalogue = {
  steps: {
    0: 'Logga in med kort',
    1: 'Hantera dina e-legitimationer',
    2: 'Sök på beställningar',
    3: 'Granskning av valt underlag',
    4: 'Lämna över kort till kortmottagare',
    5: 'Acceptera villkoren för ditt certifikat',
    6: 'Hämta nytt certifikat',
    7: 'Kvittera kort',
  },
  controls: {
    login: 'Logga in',
    'manage-orders': 'Hantera beställningar',
    search: 'Sök',
    'select-order': 'Välj underlag',
    sign: 'SIGNERA',
    'logout-restart': 'Logga ut och börja om',
    'confirm-handover': 'BEKRÄFTA ÖVERLÄMNING',
    'accept-terms': 'Jag accepterar villkoren',
    'start-download': 'STARTA NEDLADDNING',
    acknowledge: 'KVITTERA KORT',
    restart: 'Starta om utgivningen',
    'send-support-case': 'Skicka felanmälan',
  },
  cardOwners: {
    'previous-recipient': 'förra mottagarens kort',
    'own-login-card': 'ditt eget inloggningskort',
    'staff-card': 'en medarbetares eget kort',
    unknown: 'ett kort som inte hör till beställningen',
  },
  codes: {
    READERS_MISSING: {
      title: 'Två kortläsare krävs',
      explanation:
        'Kortläsare {missing} är inte ansluten. Med bara en kortläsare måste ditt administratörskort tas ut för att reservkortet ska få plats, och då bryts utgivningen.',
      remedy: 'Anslut båda kortläsarna innan du loggar in och låt dem vara anslutna under hela utgivningen.',
    },
    LOA2_LOGIN: {
      title: 'Inloggad med ett LoA2-kort',
      explanation:
        'Du är inloggad med ett reservkort på tillitsnivå 2. Beställningar av LoA3-reservkort kan bara hanteras av den som loggat in med tillitsnivå 3.',
      remedy: 'Logga ut och logga in igen med ett LoA3-kort, ordinarie kort eller reservkort.',
    },
    NO_ROLE_IN_BRANCH: {
      title: 'Ingen träff inom din behörighet',
      explanation:
        'Dina roller täcker inte den organisation där beställningen finns. Minst rollen KRA eller RA i personens organisation (eller en överordnad gren) krävs.',
      remedy: 'Kontakta administratören som gav dig dina roller och be om rätt roll i organisationen.',
    },
    HSA_ID_INCOMPLETE: {
      title: 'Ange hela HSA-id:t',
      explanation: 'Sökningen ser ut som en del av ett HSA-id. Sökningen kräver ett fullständigt HSA-id.',
      remedy: 'Skriv hela HSA-id:t, till exempel SE2321000016-abc1, eller sök på personnummer.',
    },
    PNR_FORMAT: {
      title: 'Personnumret har gjorts om',
      explanation:
        'Personnumret skrevs med bindestreck, plustecken, mellanslag eller tio siffror. Det har gjorts om till tolv siffror och sökningen gjordes ändå.',
      remedy: 'Inget behöver göras. Kontrollera att det omgjorda numret {normalised} är rätt person.',
    },
    NO_ORDER: {
      title: 'Ingen beställning finns',
      explanation: 'Det finns ingen öppen beställning av LoA3-reservkort för personen.',
      remedy:
        'Administratör 1 måste först registrera och signera en beställning i administrationsportalen. Finns beställningen ändå, skicka en felanmälan.',
    },
    OWN_ORDER: {
      title: 'Du har själv skapat beställningen',
      explanation:
        'Utgivningen kräver två olika administratörer: den som registrerade beställningen får inte slutföra den.',
      remedy: 'Be en annan administratör med rollen KRA eller RA att logga in och slutföra utgivningen.',
    },
    PROTECTED_NEEDS_KUR: {
      title: 'Ingen träff som du kan hantera',
      explanation:
        'Sökningen gav ingen träff som dina roller räcker till att se eller hantera. Av sekretesskäl visas inte varför.',
      remedy:
        'Kontrollera sökningen. Ska utgivningen göras ändå, be en administratör med utökad behörighet (till exempel tilläggsrollen KUR) att söka i stället.',
    },
    NOT_ELIGIBLE: {
      title: 'Personen kan inte få ett LoA3-reservkort',
      explanation:
        'LoA3-reservkort kräver ett svenskt personnummer. Personen har samordningsnummer eller är identifierad endast med utländskt pass.',
      remedy: 'Ge inget LoA3-reservkort. Hänvisa till den ordinarie utgivningen av e-legitimation.',
    },
    ORDER_EXPIRED: {
      title: 'Beställningen har gått ut',
      explanation: 'Beställningens giltighetstid har passerat.',
      remedy: 'Administratör 1 registrerar en ny beställning i administrationsportalen.',
    },
    ORDER_USED: {
      title: 'Beställningen är redan använd',
      explanation: 'Ett reservkort har redan lämnats ut och kvitterats på den här beställningen.',
      remedy: 'Behövs ett nytt reservkort registrerar administratör 1 en ny beställning.',
    },
    CARD_REINSERTED: {
      title: 'Ditt kort har tagits ut',
      explanation:
        'Kortet du loggade in med togs ut ur kortläsaren kl. {removedAt}. Sessionen får därför inte längre signera, även om kortet sätts tillbaka.',
      remedy:
        'Logga ut och börja om från början. Låt kortet sitta kvar i kortläsaren under hela utgivningen.',
    },
    SIGN_FAILED: {
      title: 'Signeringen misslyckades',
      explanation: 'Underlaget kunde inte signeras med ditt kort (försök {attempt}).',
      remedy:
        'Försök signera en gång till. Misslyckas det igen, starta om utgivningen och skicka en felanmälan.',
    },
    WRONG_CARD: {
      title: 'Fel reservkort i kortläsaren',
      explanation:
        'Kortet i läsaren är {owner}, med kortnummer {actual}, men beställningen gäller kortnummer {expected}.',
      remedy: 'Ta ut kortet och sätt i reservkortet med kortnummer {expected}.',
    },
    ONE_READER_USED: {
      title: 'Två kortläsare användes inte hela tiden',
      explanation:
        'Kortläsarloggen visar att en kortläsare var frånkopplad under utgivningen. Då kan överlämning och nedladdning inte slutföras säkert.',
      remedy: 'Starta om utgivningen med två kortläsare anslutna hela tiden.',
    },
    HANDOVER_STUCK: {
      title: 'Överlämningen kom inte vidare',
      explanation:
        'BEKRÄFTA ÖVERLÄMNING klickades men kortagenten svarade inte. Kortläsarloggen och kortagentens händelser är sparade.',
      remedy:
        'Starta om utgivningen. Händer det igen, skicka en felanmälan – allt förvaltningen behöver följer med.',
    },
    DOWNLOAD_START_STUCK: {
      title: 'Nedladdningen startade inte',
      explanation:
        'STARTA NEDLADDNING klickades men kortagenten började inte skapa nycklar. Kortläsarloggen och kortagentens händelser är sparade.',
      remedy: 'Starta om utgivningen. Händer det igen, skicka en felanmälan.',
    },
    CARD_REMOVED_DURING_DOWNLOAD: {
      title: 'Reservkortet togs ut under nedladdningen',
      explanation:
        'Kortet togs ut medan nycklar skapades eller certifikat skrevs. Det som hunnit utfärdas har spärrats och kortet har rensats så att det kan användas igen.',
      remedy: 'Starta om utgivningen och låt reservkortet sitta kvar tills certifikaten är skrivna.',
    },
    AUTH_DIALOG_NOT_SHOWN: {
      title: 'Legitimeringsfönstret visades inte',
      explanation: 'Kortagenten skulle be om PIN 1 (legitimering) men fönstret visades aldrig.',
      remedy: 'Starta om utgivningen. Visas fönstret inte heller då, skicka en felanmälan.',
    },
    SIGN_DIALOG_NOT_SHOWN: {
      title: 'Underskriftsfönstret visades inte',
      explanation: 'Kortagenten skulle be om PIN 2 (underskrift) men fönstret visades aldrig.',
      remedy: 'Starta om utgivningen. Visas fönstret inte heller då, skicka en felanmälan.',
    },
    DOWNLOAD_FAILED: {
      title: 'Hämtningen av certifikat misslyckades',
      explanation:
        'Certifikaten kunde inte skrivas till kortet ({reason}). Det som hunnit utfärdas har spärrats.',
      remedy: 'Starta om utgivningen. Misslyckas det igen, skicka en felanmälan.',
    },
    ACK_TIMEOUT: {
      title: 'Kortet kvitterades inte i tid',
      explanation:
        'Tiden för att kvittera kortet gick ut kl. {deadline}. Båda certifikaten på kortet har spärrats.',
      remedy: 'Starta om utgivningen för att få nya certifikat, och kvittera kortet innan tiden går ut.',
    },
    PNR_INVALID: {
      title: 'Inte ett personnummer',
      explanation: 'Ett personnummer har tio eller tolv siffror, till exempel 19800101-9804.',
      remedy: 'Kontrollera numret och skriv det igen.',
    },
    PNR_CHECK_DIGIT: {
      title: 'Fel kontrollsiffra i personnumret',
      explanation: 'Personnumrets sista siffra stämmer inte med de övriga. Troligen är en siffra felskriven.',
      remedy: 'Jämför numret med ID-handlingen och skriv det igen.',
    },
    PNR_DATE: {
      title: 'Ogiltigt datum i personnumret',
      explanation: 'Personnumret innehåller ett datum som inte finns eller ligger i framtiden.',
      remedy: 'Jämför numret med ID-handlingen och skriv det igen.',
    },
    HSA_ID_INVALID: {
      title: 'Ogiltigt HSA-id',
      explanation:
        'Ett HSA-id består av SE, organisationsnummer, bindestreck och en lokal del, högst 31 tecken.',
      remedy: 'Skriv HSA-id:t i formen SE2321000016-abc1.',
    },
    CARD_NUMBER_INVALID: {
      title: 'Ogiltigt kortnummer',
      explanation: 'Ett kortnummer har 19 siffror och börjar med 9752.',
      remedy: 'Skriv av kortnumret från kortet, till exempel 9752 2789 0000 0000 000.',
    },
    QUERY_INVALID: {
      title: 'Sökningen kunde inte tolkas',
      explanation: 'Sök på ett personnummer eller ett fullständigt HSA-id.',
      remedy: 'Skriv till exempel 19800101-9804 eller SE2321000016-abc1.',
    },
    DATE_INVALID: {
      title: 'Ogiltigt datum',
      explanation: 'Datumet finns inte eller har fel form.',
      remedy: 'Skriv datumet som ÅÅÅÅ-MM-DD.',
    },
    ORGANISATION_INVALID: {
      title: 'Organisationsträdet är felaktigt',
      explanation: 'Grenarna bildar inte ett träd ({reason}).',
      remedy: 'Rätta organisationsdata och läs in den igen.',
    },
    BRANCH_UNKNOWN: {
      title: 'Okänd organisation',
      explanation: 'Organisationen finns inte i katalogen.',
      remedy: 'Kontrollera katalogen eller kontakta förvaltningen.',
    },
    RECIPIENT_UNDERAGE: {
      title: 'Personen är under 18 år',
      explanation: 'LoA3-reservkort ges bara till personer som fyllt 18 år.',
      remedy: 'Ge inget LoA3-reservkort.',
    },
    ID_DOCUMENT_NOT_LOA3: {
      title: 'ID-handlingen räcker inte för LoA3',
      explanation:
        'Godkända ID-handlingar är svenskt körkort, svenskt pass, SIS-märkt ID-kort, nationellt ID-kort och Skatteverkets ID-kort.',
      remedy: 'Kontrollera en godkänd ID-handling och ange den.',
    },
    CARD_NUMBER_TAKEN: {
      title: 'Kortnumret tillhör en annan person',
      explanation:
        'Ett reservkort med det här kortnumret är redan beställt till eller utlämnat till någon annan.',
      remedy: 'Använd ett annat, oanvänt reservkort och ange dess kortnummer.',
    },
    VALIDITY_INVALID: {
      title: 'Ogiltig giltighetstid',
      explanation: 'Giltighetstiden måste börja nu eller senare och sluta efter att den börjat.',
      remedy: 'Ange en giltighetstid som börjar i dag eller senare.',
    },
    VALIDITY_TOO_LONG: {
      title: 'För lång giltighetstid',
      explanation: 'Reservkortet får gälla högst {maxDays} dagar.',
      remedy: 'Korta giltighetstiden till högst {maxDays} dagar.',
    },
    ORDER_NOT_SIGNED: {
      title: 'Beställningen är inte signerad',
      explanation: 'Beställningen måste signeras med kortet hos administratören som registrerar den.',
      remedy: 'Signera beställningen med ditt kort.',
    },
    ORDER_CANCELLED: {
      title: 'Beställningen är makulerad',
      explanation: 'Beställningen har makulerats i administrationsportalen.',
      remedy: 'Administratör 1 registrerar en ny beställning om ett reservkort fortfarande behövs.',
    },
    ORDER_STATE_CONFLICT: {
      title: 'Beställningen hanteras redan',
      explanation:
        'Beställningen hanteras redan i en annan utgivning eller ändrades medan du arbetade, så åtgärden går inte att göra just nu.',
      remedy: 'Ladda om sidan. Pågår en annan utgivning av samma beställning, vänta tills den är klar.',
    },
    CARD_ALREADY_ISSUED: {
      title: 'Reservkortet är redan utlämnat till personen',
      explanation:
        'Ett reservkort med det här kortnumret har redan lämnats ut och kvitterats av personen. Ett kort ges inte ut två gånger.',
      remedy:
        'Ska kortets giltighet förlängas gör personen det själv på Mina sidor med kortet. Behövs ett nytt kort, använd ett oanvänt reservkort.',
    },
    CARD_ALREADY_ORDERED: {
      title: 'Kortnumret är redan beställt till personen',
      explanation: 'Det finns redan en öppen beställning för det här kortnumret till personen.',
      remedy: 'Använd den beställningen. Är den fel, makulera den först och registrera sedan en ny.',
    },
    NOT_LOGGED_IN: {
      title: 'Inte inloggad',
      explanation: 'Du måste logga in med ditt kort.',
      remedy: 'Sätt i ditt kort i kortläsare 1 och logga in.',
    },
    RESERVE_CARD_MISSING: {
      title: 'Inget reservkort i kortläsaren',
      explanation: 'Det sitter inget kort i kortläsare {reader}.',
      remedy: 'Be kortmottagaren sätta i reservkortet i kortläsare {reader}.',
    },
    TERMS_NOT_ACCEPTED: {
      title: 'Villkoren är inte accepterade',
      explanation: 'Kortmottagaren måste acceptera villkoren för certifikatet innan nedladdningen.',
      remedy: 'Läs villkoren och kryssa i att du accepterar dem.',
    },
    ACTION_PENDING: {
      title: 'Väntar på kortagenten',
      explanation: 'Kortagenten arbetar med föregående steg.',
      remedy: 'Vänta några sekunder. Händer inget, visas ett felmeddelande med nästa åtgärd.',
    },
    PIN_DIALOG_CANCELLED: {
      title: 'PIN-dialogen avbröts',
      explanation: 'PIN-fönstret stängdes utan att PIN angavs. Det som hunnit utfärdas har spärrats.',
      remedy: 'Starta om utgivningen och ange PIN-koden från reservkortets kuvert.',
    },
    EVENT_OUT_OF_ORDER: {
      title: 'Åtgärden passar inte i det här steget',
      explanation: 'Sidan och servern är inte i samma steg.',
      remedy: 'Ladda om sidan för att se var utgivningen är.',
    },
    FLOW_ENDED: {
      title: 'Utgivningen är avslutad',
      explanation: 'Den här utgivningen är redan avslutad ({status}).',
      remedy: 'Starta en ny utgivning om det behövs.',
    },
    CERTIFICATES_ALREADY_REQUESTED: {
      title: 'Certifikaten är redan begärda',
      explanation:
        'Den här utgivningen har redan begärt sina certifikat en gång (kanske från ett annat fönster eller ett upprepat klick); ett kort får sina certifikat bara en gång per utgivning.',
      remedy: 'Vänta tills nedladdningen på skärmen är klar. Blir den inte klar, starta om utgivningen.',
    },
    TEXT_TOO_LONG: {
      title: 'Texten är för lång',
      explanation: 'Texten får vara högst {max} tecken.',
      remedy: 'Korta texten och försök igen.',
    },
    STOCK_LINE_INVALID: {
      title: 'En rad i bunten går inte att läsa',
      explanation:
        'Rad {line} i bunten från kortbyrån saknar ett giltigt kortnummer, en känd kortprodukt (473 eller 573) eller ett riktigt tillverkningsdatum, eller så följer dess fysiska utgångsdatum inte regeln: en 473 håller 4 år och en 573 håller 5 år från tillverkningen. Ingen rad i bunten registrerades.',
      remedy: 'Rätta raden, eller be kortbyrån om en ny fil, och läs in hela bunten igen.',
    },
    CARD_ALREADY_IN_STOCK: {
      title: 'Kortet finns redan i lager',
      explanation:
        'Kortet med kortnummer {cardNumber} (rad {line}) är redan registrerat på en kortstation. Ingen rad i bunten registrerades.',
      remedy:
        'Ta bort raden ur bunten och läs in den igen. Kontrollera med kortbyrån om bunten redan lästs in.',
    },
    CARD_NOT_IN_STOCK: {
      title: 'Kortet finns inte i lager',
      explanation: 'Kortet med kortnummer {cardNumber} finns inte i någon kortstations lager.',
      remedy:
        'Välj ett kort ur kortstationens lager, eller kontrollera kortnumret mot kortet. Ett nytt kort måste läsas in med sin bunt först.',
    },
    CARD_AT_OTHER_STATION: {
      title: 'Kortet hör till en annan kortstation',
      explanation: 'Kortet med kortnummer {cardNumber} är registrerat på en annan kortstation än din.',
      remedy: 'Välj ett kort ur din kortstations lager.',
    },
    CARD_PAST_PHYSICAL_EXPIRY: {
      title: 'Kortet har passerat sitt fysiska utgångsdatum',
      explanation:
        'Kortet kan bara användas till och med {physicalExpiry} och räcker inte för certifikatens giltighetstid.',
      remedy: 'Använd ett annat kort ur lagret. Kortet ska kasseras.',
    },
    CARD_ALREADY_GIVEN: {
      title: 'Kortet är redan utlämnat',
      explanation:
        'Kortet med kortnummer {cardNumber} har redan lämnats ut till en person. Ett reservkort ges bara till en person.',
      remedy: 'Välj ett förseglat kort ur kortstationens lager.',
    },
    CARD_DESTROYED: {
      title: 'Kortet är kasserat',
      explanation: 'Kortet med kortnummer {cardNumber} är kasserat och kan aldrig användas igen.',
      remedy: 'Använd ett annat kort ur lagret.',
    },
    CARD_STOCK_CONFLICT: {
      title: 'Kortet är inte i rätt läge för åtgärden',
      explanation:
        'Kortet med kortnummer {cardNumber} kan inte ändras så: ett förseglat kort lämnas ut eller kasseras, ett utlämnat kort lämnas tillbaka och ett tillbakalämnat kort kasseras.',
      remedy: 'Ladda om sidan för att se kortets läge nu.',
    },
    EXTENSION_ALREADY_USED: {
      title: 'Kortet är redan förlängt',
      explanation: 'Ett reservkort kan förlängas en gång. Kortet förlängdes {extendedOn}.',
      remedy: 'Behöver du reservkort längre, be din ID-administratör om ett nytt reservkort.',
    },
    EXTENSION_TOO_LATE: {
      title: 'Certifikaten har redan gått ut',
      explanation: 'Förlängning måste göras innan certifikaten går ut. De gick ut {expiredOn}.',
      remedy: 'Be din ID-administratör om ett nytt reservkort.',
    },
    EXTENSION_CARD_REVOKED: {
      title: 'Kortet är spärrat',
      explanation: 'Kortets e-legitimation är spärrad och kan inte förlängas.',
      remedy: 'Be din ID-administratör om ett nytt reservkort, och lämna tillbaka det spärrade kortet.',
    },
    REVOCATION_NOT_PERMITTED: {
      title: 'Du kan inte spärra den här e-legitimationen',
      explanation:
        'Kortinnehavaren kan spärra sin egen e-legitimation. Andras spärrar en ID-administratör med roll i personens organisation, eller förvaltningen.',
      remedy: 'Kontakta en ID-administratör eller förvaltningen.',
    },
    REVOCATION_REASON_NOT_OFFERED: {
      title: 'Orsaken kan inte väljas här',
      explanation:
        'Spärrorsaken finns inte bland dem du kan välja. Kortinnehavaren väljer mellan förlorat kort, misstänkt missbruk och skadat kort; administratörer och förvaltningen kan också välja att kortet inte behövs, är låst eller att personen har lämnat organisationen.',
      remedy: 'Välj en av orsakerna i listan.',
    },
    NOT_A_RESERVE_CARD: {
      title: 'Kortet är inget reservkort',
      explanation:
        'Mina sidor öppnas bara med ett reservkort som getts ut här, med e-legitimation på tillitsnivå 3. Kortet i kortläsare 1 är ett annat kort, till exempel ett administratörskort eller ett ordinarie kort.',
      remedy:
        'Sätt i ditt reservkort i kortläsare 1 och logga in igen. Är du ID-administratör loggar du in på inloggningssidan för ID-administratörer.',
    },
    CSR_INVALID: {
      title: 'Certifikatbegäran kunde inte läsas',
      explanation: 'Det som skickades är ingen giltig PKCS#10-certifikatbegäran ({reason}).',
      remedy: 'Starta om nedladdningen så att kortagenten skapar en ny begäran.',
    },
    CSR_SIGNATURE_INVALID: {
      title: 'Certifikatbegärans signatur stämmer inte',
      explanation:
        'Begäran är inte signerad med den nyckel den innehåller, så nyckelinnehavet är inte bevisat.',
      remedy: 'Starta om nedladdningen. Händer det igen, skicka en felanmälan.',
    },
    KEY_NOT_ALLOWED: {
      title: 'Nyckeltypen är inte tillåten',
      explanation:
        'Nyckeln i begäran ({key}) är inte tillåten här. Tillåtet: {allowed}. En kortnyckel ska vara av den typ dess CA är inställd på.',
      remedy:
        'Använd ett kort som skapar en tillåten nyckel, eller fråga CA-operatören vilken nyckeltyp CA:n är inställd på.',
    },
    CA_NOT_INITIALISED: {
      title: 'CA:n är inte skapad',
      explanation: 'Det finns ingen utfärdare ({ca}) i databasen.',
      remedy: 'Kör reservkort ca init.',
    },
    CA_ALREADY_INITIALISED: {
      title: 'CA:n finns redan',
      explanation: 'Rot-CA och utfärdande CA:er är redan skapade.',
      remedy: 'Använd reservkort ca show för att se dem.',
    },
    CA_KEY_UNAVAILABLE: {
      title: 'CA-nyckeln kunde inte öppnas',
      explanation: 'Nyckeln för {ca} gick inte att öppna ({reason}).',
      remedy: 'Kontrollera lösenfrasen eller PKCS#11-token och PIN, och kontakta förvaltningen.',
    },
    CERTIFICATE_NOT_FOUND: {
      title: 'Certifikatet finns inte',
      explanation: 'Inget certifikat med serienummer {serial} är utfärdat här.',
      remedy: 'Kontrollera serienumret med reservkort cert list.',
    },
    ALREADY_REVOKED: {
      title: 'Certifikatet är redan spärrat',
      explanation: 'Certifikatet {serial} spärrades redan tidigare.',
      remedy: 'Inget behöver göras.',
    },
    REVOCATION_REASON_INVALID: {
      title: 'Okänd spärrorsak',
      explanation: 'Spärrorsaken {reason} finns inte i RFC 5280.',
      remedy:
        'Välj en av: unspecified, keyCompromise, affiliationChanged, superseded, cessationOfOperation, privilegeWithdrawn.',
    },
    READER_NOT_FOUND: {
      title: 'Kortläsaren finns inte',
      explanation: 'Kortagenten hittar ingen kortläsare {reader}.',
      remedy: 'Kontrollera att kortläsaren är ansluten och välj den igen.',
    },
    CARD_MISSING: {
      title: 'Inget kort i kortläsaren',
      explanation: 'Det sitter inget kort i kortläsare {reader}.',
      remedy: 'Sätt i kortet och försök igen.',
    },
    CARD_REMOVED: {
      title: 'Kortet togs ut',
      explanation:
        'Kortet togs ut ur kortläsaren medan det användes, eller efter att sidan kopplades till det.',
      remedy: 'Sätt tillbaka kortet och börja om åtgärden.',
    },
    PIN_INCORRECT: {
      title: 'Fel PIN-kod',
      explanation: 'PIN-koden stämmer inte. {triesLeft} försök återstår innan koden spärras.',
      remedy: 'Ange PIN-koden igen. Den finns i kuvertet som kom med kortet.',
    },
    PIN_BLOCKED: {
      title: 'PIN-koden är spärrad',
      explanation:
        'PIN-koden har angetts fel tre gånger och är nu spärrad. Kortet kan inte användas, varken för inloggning, underskrift eller utgivning, förrän PIN-koden har låsts upp med PUK-koden från kortets PIN-brev. Portalen ber inte om PIN-koden igen för kortet.',
      remedy:
        'Lås upp PIN-koden med PUK-koden från kortets PIN-brev: sätt kortet i kortläsare 1, öppna Kort och PIN-koder (finns även på inloggningssidan, utan inloggning) och välj att låsa upp PIN-koden med PUK-koden. Saknas PIN-brevet, lägg kortet åt sidan och skicka en felanmälan. Starta sedan om utgivningen med det upplåsta kortet, eller använd ett annat kort.',
    },
    PIN_FORMAT: {
      title: 'PIN-koden har fel form',
      explanation: 'En PIN-kod har 4–8 siffror och en PUK-kod 8 siffror.',
      remedy: 'Skriv koden med bara siffror.',
    },
    PUK_INCORRECT: {
      title: 'Fel PUK-kod',
      explanation: 'PUK-koden stämmer inte. {triesLeft} försök återstår innan kortet låses för gott.',
      remedy: 'Ange PUK-koden från kuvertet igen.',
    },
    CARD_LOCKED: {
      title: 'Kortet är låst för gott',
      explanation:
        'PUK-koden har angetts fel fler än tio gånger i rad, och kortet har låst sig för gott. Det kan inte användas igen, inte ens med rätt PUK-kod.',
      remedy:
        'Kortets e-legitimation ska spärras (skäl: kortet låst för gott) och kortet förstöras: lämna det till en ID-administratör, som spärrar e-legitimationen och registrerar kortet som förstört. Använd ett annat kort under tiden, och skicka en felanmälan om du behöver hjälp.',
    },
    KEY_MISSING: {
      title: 'Nyckeln saknas på kortet',
      explanation: 'Kortet har ingen {key}-nyckel.',
      remedy: 'Kortet behöver få nycklar genom utgivningen först.',
    },
    CARD_ERROR: {
      title: 'Kortet svarade med ett fel',
      explanation: 'Kortet eller kortläsaren rapporterade ett fel ({reason}).',
      remedy: 'Ta ut kortet, sätt i det igen och försök på nytt. Skicka en felanmälan om felet består.',
    },
    ORIGIN_FORBIDDEN: {
      title: 'Sidan får inte använda kortagenten',
      explanation: 'Kortagenten svarar bara den portal den är inställd för.',
      remedy: 'Öppna portalen från dess riktiga adress.',
    },
    SESSION_INVALID: {
      title: 'Kopplingen till kortagenten har gått ut',
      explanation: 'Sidans koppling till kortagenten gäller inte längre.',
      remedy: 'Ladda om sidan.',
    },
    DIALOG_CANCELLED: {
      title: 'PIN-dialogen avbröts',
      explanation: 'PIN-fönstret stängdes utan att en PIN-kod angavs.',
      remedy: 'Försök igen och ange PIN-koden.',
    },
    DIALOG_TIMEOUT: {
      title: 'PIN-dialogen besvarades inte',
      explanation: 'Ingen PIN-kod angavs i tid, eller så visades PIN-fönstret aldrig.',
      remedy: 'Försök igen. Visas inget PIN-fönster, kontrollera att popup-fönster är tillåtna för portalen.',
    },
    REQUEST_INVALID: {
      title: 'Begäran har fel form',
      explanation: 'Begäran saknar uppgifter eller har uppgifter av fel slag ({reason}).',
      remedy: 'Ladda om sidan och försök igen. Händer det igen, skicka en felanmälan.',
    },
    STATION_NOT_REGISTERED: {
      title: 'Kortstationen är inte registrerad',
      explanation:
        'Kortagenten på den här datorn har inget giltigt stationscertifikat, så servern kan inte lita på vad den rapporterar om läsare och kort.',
      remedy: 'Be en administratör med roll i din enhet att registrera kortstationen och försök sedan igen.',
    },
    STATION_KEY_UNAVAILABLE: {
      title: 'Kortstationens nyckel kan inte användas',
      explanation: 'Kortagenten når inte nyckeln som identifierar den här kortstationen ({reason}).',
      remedy:
        'Kontrollera att stationens token är ansluten och att agenten har dess PIN-kod. Har nyckeln flyttats, registrera kortstationen igen.',
    },
    LOGIN_FAILED: {
      title: 'Inloggningen misslyckades',
      explanation: 'Kortet kunde inte användas för inloggning ({reason}).',
      remedy: 'Kontrollera att du använder ditt eget, giltiga kort och försök igen.',
    },
    CSRF_INVALID: {
      title: 'Begäran kom inte från portalen',
      explanation: 'Säkerhetskontrollen för ändringar saknas eller stämmer inte.',
      remedy: 'Ladda om sidan och gör om åtgärden.',
    },
    ACCESS_DENIED: {
      title: 'Du har inte behörighet',
      explanation: 'Din inloggning ger inte rätt till den här åtgärden ({reason}).',
      remedy: 'Logga in med rätt kort, eller be den som delar ut roller om behörighet.',
    },
    NOT_FOUND: {
      title: 'Finns inte',
      explanation: 'Det du frågade efter finns inte ({what}).',
      remedy: 'Kontrollera uppgiften och försök igen.',
    },
    SIGNATURE_INVALID: {
      title: 'Signaturen stämmer inte',
      explanation: 'Signaturen kunde inte verifieras med kortets certifikat ({reason}).',
      remedy: 'Gör om signeringen med rätt kort.',
    },
    PERSON_NOT_FOUND: {
      title: 'Ingen träff inom dina roller',
      explanation:
        'Ingen person som du får beställa reservkort till matchar sökningen: antingen finns ingen sådan person, eller så täcker dina roller (KRA eller RA, och KUR för skyddade personuppgifter) inte personens organisation.',
      remedy:
        'Kontrollera personnumret eller HSA-id:t. Stämmer det, be den som delar ut roller om behörighet i personens organisation.',
    },
    LOGIN_CERTIFICATE_REVOKED: {
      title: 'Ditt inloggningskort är spärrat',
      explanation: 'Certifikatet som du loggade in med har spärrats, och därför har inloggningen avslutats.',
      remedy:
        'Logga in med ett kort vars certifikat gäller. Vet du inte varför kortet spärrades, kontakta förvaltningen.',
    },
    CSR_SAME_KEY: {
      title: 'Samma nyckel för båda certifikaten',
      explanation:
        'Legitimeringscertifikatet och underskriftscertifikatet begärdes för samma nyckel. Vart och ett måste ha en egen nyckel på kortet; inget utfärdades.',
      remedy:
        'Starta om utgivningen så att kortet skapar två nya nycklar. Händer det igen, skicka en felanmälan.',
    },
    RATE_LIMITED: {
      title: 'För många försök',
      explanation:
        'Servern har fått för många sådana förfrågningar från din dator eller ditt nätverk på kort tid ({retryAfterSeconds} sekunder kvar).',
      remedy: 'Vänta {retryAfterSeconds} sekunder och försök igen. Händer det ofta, kontakta driftansvarig.',
    },
    OPERATIONS_TOKEN_REQUIRED: {
      title: 'Driftsidan kräver behörighet',
      explanation: 'Mätvärden och API-dokumentation visas bara för driftens övervakning ({reason}).',
      remedy: 'Skicka driftens token som "Authorization: Bearer …", eller fråga driftansvarig var sidan nås.',
    },
    AUDIT_CHECKPOINT_INVALID: {
      title: 'Granskningsloggens kontrollpunkt är inte giltig',
      explanation: 'Kontrollpunkten {file} kunde inte verifieras: {reason}.',
      remedy:
        'Använd kontrollpunktsfilen precis som den skrevs, från kopian som förvaras utanför servern, och kontrollera den mot rot-CA:ns certifikat.',
    },
    AUDIT_LOG_TAMPERED: {
      title: 'Granskningsloggen stämmer inte med sin kontrollpunkt',
      explanation:
        'Vid post {seq} innehåller granskningsloggen inte det som den signerade kontrollpunkten {file} anger ({problem}): poster har tagits bort eller skrivits om.',
      remedy:
        'Stoppa och utred: återställ databasen från en säkerhetskopia som stämmer med kontrollpunkten och ta reda på vem som kunnat ändra den. Ingen ny kontrollpunkt signeras förrän dess.',
    },
    AUDIT_CHECKPOINT_UNAVAILABLE: {
      title: 'Ingen kontrollpunkt för granskningsloggen än',
      explanation: 'Servern har inte publicerat någon kontrollpunkt för granskningsloggen ({reason}).',
      remedy:
        'Försök igen senare. Om det kvarstår, se serverns logg: publiceringen kan ha upptäckt att granskningsloggen ändrats.',
    },
    STATION_REVOKED: {
      title: 'Kortstationen är spärrad',
      explanation:
        'Kortstationens certifikat är spärrat eller har gått ut ({reason}), så servern tar inte emot något som stationen rapporterar.',
      remedy:
        'Registrera kortstationen på nytt om den ska användas. Om du inte vet varför den spärrades, kontakta supporten: stationens nyckel kan ha kommit på avvägar.',
    },
    STATEMENT_INVALID: {
      title: 'Kortstationens uppgift godtogs inte',
      explanation:
        'En uppgift från kortstationen var inte korrekt signerad eller hörde inte till det här steget ({reason}). Den kan ha ändrats, spelats upp igen eller flyttats från ett annat ärende.',
      remedy: 'Gör om steget. Om det händer igen, starta om kortläsarprogrammet och skicka en felanmälan.',
    },
    CARD_NOT_PROVEN: {
      title: 'Kortet kunde inte styrka vilket kort det är',
      explanation:
        'Kortet i läsaren kunde inte visa med kortbyråns nyckel att det är ett äkta kort med det kortnummer som steget gäller ({reason}). Servern godtar bara ett kort vars certifikat är utfärdat av kortbyrån och som själv signerar serverns utmaning; ett förfalskat kort, eller ett som kortbyrån aldrig har initierat, kan inte det.',
      remedy:
        'Kontrollera att reservkortet som beställningen gäller sitter i läsare 2 och starta om utgivningen. Händer det igen med rätt kort kommer kortet inte från kortbyrån: lämna inte ut det, lägg det åt sidan och skicka en felanmälan. Ta ett annat reservkort ur förrådet; administratör 1 makulerar beställningen och registrerar en ny med det kortets nummer.',
    },
    KEYS_NOT_ON_CARD: {
      title: 'Nycklarna är inte styrkta att finnas på kortet',
      explanation:
        'Kortet uppgav att nycklarna inte skapades i kortet eller att de kan lämna det, eller så gällde certifikatbeställningarna andra nycklar än dem kortet och kortstationen styrkte i det här steget ({reason}). Ett fungerande kort skapar nycklarna i chippet och släpper aldrig ut dem, så inget certifikat utfärdades.',
      remedy:
        'Starta om utgivningen med reservkortet i läsare 2. Händer det igen är kortet trasigt eller inget riktigt smartkort: lämna inte ut det, lägg det åt sidan och skicka en felanmälan. Ta ett annat reservkort ur förrådet; administratör 1 makulerar beställningen och registrerar en ny med det kortets nummer.',
    },
    EXTENSION_KEYS_NOT_PROVEN: {
      title: 'Kortet styrkte inte de nya nycklarna',
      explanation:
        'Innan nya certifikat utfärdas måste reservkortet med sin egen kortnyckel intyga att de två nya nycklarna skapades i kortet för just den här förlängningen. Det intyget saknades eller höll inte, så inget utfärdades och din nuvarande e-legitimation är oförändrad.',
      remedy:
        'Låt reservkortet sitta kvar i läsaren och försök igen. Händer det igen, kontakta din ID-administratör och uppge felkoden.',
    },
    EXTENSION_ABANDONED: {
      title: 'Förlängningen blev inte klar',
      explanation:
        'Förlängningen kvitterades inte i tid, eller avbröts innan den var klar. Nya certifikat som hann utfärdas för den är spärrade och kortet är inte förlängt. En förlängning som inte blev klar räknas inte som kortets enda förlängning.',
      remedy:
        'Starta en ny förlängning från dina sidor. Går det inte längre att logga in med kortet, kontakta din ID-administratör.',
    },
    INSIGHT_FILTER_INVALID: {
      title: 'Urvalet går inte att använda',
      explanation:
        'Urvalet för insikterna är ogiltigt ({field}: {reason}). Perioden anges som ÅÅÅÅ-MM-DD, från före till, högst ett år; organisation och kortstation måste vara sådana du har behörighet till.',
      remedy: 'Ändra urvalet och försök igen.',
    },
  },
};
