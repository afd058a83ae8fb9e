// Hand-placed inputs for generate-belgian-areas.mjs. Every coordinate is from general knowledge
// (no survey data was at hand): town centres to about ±1 km, border points to about ±2 km.
// Positions are [longitude, latitude] (RFC 7946) except the seeds, which read [name, lat, lon].

/**
 * A coarse outline of Belgium, clockwise from the French border on the coast. Enclaves and
 * exclaves (Baarle-Hertog, the Vennbahn enclaves) are left out.
 */
export const OUTLINE = [
  [2.5450, 51.0900], // coast at the French border (De Panne / Bray-Dunes)
  [2.7000, 51.1550], // coast at Nieuwpoort
  [2.9200, 51.2400], // coast at Oostende
  [3.1300, 51.3150], // coast at Blankenberge
  [3.2000, 51.3500], // Zeebrugge harbour
  [3.3700, 51.3750], // Het Zwin, the Dutch border on the coast
  [3.3600, 51.3100], // west of Sluis
  [3.4300, 51.2500], // Middelburg (Maldegem) / Eede
  [3.5300, 51.2900], // Sint-Margriete
  [3.7100, 51.2800], // Boekhoute
  [3.8000, 51.2150], // Zelzate / Sas van Gent
  [3.9000, 51.2150], // north of Moerbeke
  [4.0500, 51.2450], // De Klinge / Sint-Jansteen
  [4.1600, 51.3200], // Kieldrecht / Nieuw-Namen
  [4.2400, 51.3650], // the Scheldt north of Doel
  [4.3000, 51.3750], // Zandvliet
  [4.3900, 51.3700], // Putte
  [4.4200, 51.4450], // Kalmthoutse Heide / Huijbergen
  [4.4700, 51.4900], // north of Essen
  [4.5600, 51.4400], // Achtmaal
  [4.6700, 51.4300], // south of Zundert
  [4.7700, 51.5050], // Meersel-Dreef, the northernmost point
  [4.8500, 51.4700],
  [4.9400, 51.4350], // Baarle
  [5.0400, 51.4750], // north of Poppel
  [5.1200, 51.4300],
  [5.2000, 51.3200], // Postel / Reusel
  [5.3200, 51.2700], // Lommel / Luyksgestel
  [5.4500, 51.2900], // Achel / Borkel
  [5.5600, 51.2700], // Hamont / Budel
  [5.6600, 51.2000], // Bocholt / Weert
  [5.8500, 51.1500], // the Meuse at Kessenich / Thorn
  [5.8100, 51.0900], // the Meuse at Maaseik
  [5.7600, 51.0200], // the Meuse at Stokkem
  [5.7300, 50.9500], // the Meuse at Maasmechelen
  [5.7000, 50.8800], // the Meuse north of Maastricht
  [5.6400, 50.8500], // west of Maastricht
  [5.6800, 50.8000], // Kanne
  [5.6900, 50.7600], // the Meuse at Lanaye / Eijsden
  [5.8000, 50.7700], // north of Voeren
  [6.0210, 50.7540], // Vaalserberg, the three-country point
  [6.1000, 50.7300], // Köpfchen, south of Aachen
  [6.1700, 50.6400], // Raeren / Roetgen
  [6.2200, 50.5500], // west of Monschau
  [6.3200, 50.4700], // Rocherath / Hollerath
  [6.3700, 50.4000], // Losheimergraben
  [6.4080, 50.3250], // near Manderfeld, the easternmost point
  [6.3000, 50.2700], // Schönberg / Bleialf
  [6.2000, 50.2300], // Steinebrück
  [6.1400, 50.1300], // Ouren, Belgium / Germany / Luxembourg
  [6.0300, 50.1800], // Huldange, the Grand Duchy's northern tip
  [5.9500, 50.1000], // west of Troisvierges
  [5.8100, 50.0000], // east of Bastogne
  [5.7600, 49.8300], // the Sûre at Martelange
  [5.8900, 49.6900], // Arlon / Steinfort
  [5.8200, 49.5450], // Athus, Belgium / Luxembourg / France
  [5.6400, 49.5400], // Musson / Mont-Saint-Martin
  [5.4700, 49.4970], // Torgny, the southernmost point
  [5.3900, 49.6100],
  [5.3000, 49.6250], // south of Orval
  [5.1600, 49.6950], // Muno
  [5.0000, 49.7850], // Corbion
  [4.8700, 49.8500], // Bohan, the Semois into France
  [4.8200, 49.9500], // west of Gedinne
  [4.8900, 50.1300], // east of the Givet salient
  [4.8400, 50.1650], // the tip of the Givet salient
  [4.7700, 50.1300], // west of Givet
  [4.7300, 50.1000], // Treignes / Vireux
  [4.6600, 50.0000], // Oignies-en-Thiérache / Fumay
  [4.5000, 49.9700], // south of Couvin
  [4.4300, 49.9600], // Brûly-de-Pesche
  [4.2300, 49.9600], // south of Chimay
  [4.1700, 49.9700], // Macquenoise
  [4.1300, 50.0300], // west of Momignies
  [4.1200, 50.1200], // Eppe-Sauvage
  [4.1400, 50.2500], // west of Beaumont
  [4.1100, 50.2900], // Erquelinnes / Jeumont
  [4.0400, 50.3200],
  [3.9600, 50.3350], // Quévy / Bettignies
  [3.8300, 50.3550], // Honnelles
  [3.7000, 50.3850], // Quiévrain / Crespin
  [3.6500, 50.4300], // Hensies
  [3.6200, 50.4900], // Bon-Secours
  [3.4800, 50.4900], // Mortagne-du-Nord
  [3.4300, 50.5050], // Maulde / Bléharies
  [3.3300, 50.5200],
  [3.2700, 50.5500], // Rumes / Bachy
  [3.2500, 50.6400], // Blandain / Baisieux
  [3.2400, 50.6900], // Estaimpuis / Leers
  [3.1900, 50.7200], // Mouscron / Wattrelos
  [3.1500, 50.7600], // Risquons-Tout
  [3.1200, 50.7850], // the Lys at Menen / Halluin
  [3.0400, 50.7720], // the Lys at Wervik
  [2.9600, 50.7450], // the Lys at Warneton
  [2.9000, 50.7050], // Le Bizet / Armentières
  [2.8000, 50.7300], // Nieuwkerke / Nieppe
  [2.7200, 50.7750], // Zwarteberg / Mont Noir
  [2.6400, 50.8100], // Abele
  [2.6000, 50.8500], // Watou / Houtkerque
  [2.6000, 50.9500], // Leisele / Hondschoote
  [2.5700, 51.0200], // De Moeren
];

/**
 * The Brussels-Capital Region, drawn by hand (counter-clockwise): it lies inside the seeds of
 * Vlaams-Brabant and wins there by being the smaller area.
 */
export const BRUSSELS = [
  [4.2450, 50.8200], // Anderlecht (west)
  [4.2600, 50.8000], // Neerpede
  [4.2900, 50.8100],
  [4.3200, 50.8000], // Forest / Drogenbos
  [4.3600, 50.7800], // Uccle (south)
  [4.3900, 50.7650], // Sonian Forest
  [4.4200, 50.7700], // Sonian Forest (Watermael-Boitsfort)
  [4.4500, 50.7900],
  [4.4700, 50.8100],
  [4.4800, 50.8300], // Woluwe-Saint-Pierre (east)
  [4.4700, 50.8550], // Woluwe-Saint-Lambert / Kraainem
  [4.4500, 50.8650],
  [4.4300, 50.8900], // Evere / Haren
  [4.4000, 50.9100], // Haren
  [4.3700, 50.9130], // Neder-over-Heembeek (north)
  [4.3300, 50.9050], // Laeken
  [4.2900, 50.8900], // Jette / Wemmel
  [4.2700, 50.8600], // Berchem-Sainte-Agathe
];

/**
 * Seed points per CIC: [place, latitude, longitude]. Each point of Belgium goes to the CIC of the
 * nearest seed (a Voronoi diagram). Seeds sit on both sides of each provincial border, so the
 * border falls halfway between neighbouring towns of different provinces.
 */
export const SEEDS = {
  'cic-west-vlaanderen': [
    ['Brugge', 51.209, 3.225], ['Oostende', 51.216, 2.927], ['Kortrijk', 50.828, 3.265],
    ['Roeselare', 50.946, 3.123], ['Ieper', 50.851, 2.885], ['Veurne', 51.072, 2.662],
    ['Diksmuide', 51.033, 2.864], ['Tielt', 50.999, 3.327], ['Knokke', 51.349, 3.287],
    ['Poperinge', 50.855, 2.726], ['Menen', 50.797, 3.121], ['Waregem', 50.889, 3.426],
    ['Torhout', 51.065, 3.101], ['Beernem', 51.139, 3.337], ['Ruiselede', 51.040, 3.390],
    ['Avelgem', 50.776, 3.445], ['Wevelgem', 50.809, 3.183], ['Izegem', 50.914, 3.213],
    ['Damme', 51.251, 3.282], ['Harelbeke', 50.856, 3.309], ['Wielsbeke', 50.900, 3.370],
    ['Heuvelland (Kemmel)', 50.786, 2.826], ['Nieuwpoort', 51.130, 2.751], ['Middelkerke', 51.185, 2.819],
    ['Wervik', 50.780, 3.040], ['Mesen', 50.765, 2.898],
  ],
  'cic-oost-vlaanderen': [
    ['Gent', 51.054, 3.717], ['Aalst', 50.937, 4.040], ['Sint-Niklaas', 51.165, 4.143],
    ['Dendermonde', 51.028, 4.101], ['Eeklo', 51.185, 3.566], ['Oudenaarde', 50.845, 3.605],
    ['Ronse', 50.746, 3.601], ['Geraardsbergen', 50.773, 3.882], ['Ninove', 50.828, 4.026],
    ['Lokeren', 51.104, 3.991], ['Deinze', 50.983, 3.530], ['Zelzate', 51.200, 3.810],
    ['Maldegem', 51.207, 3.445], ['Aalter', 51.086, 3.447], ['Zulte', 50.919, 3.449],
    ['Beveren', 51.212, 4.256], ['Temse', 51.126, 4.213], ['Hamme', 51.098, 4.137],
    ['Zottegem', 50.869, 3.811], ['Wetteren', 51.006, 3.883], ['Buggenhout', 51.015, 4.202],
    ['Doel', 51.311, 4.261], ['Sint-Laureins', 51.242, 3.527], ['Assenede', 51.226, 3.750],
    ['Brakel', 50.800, 3.760],
  ],
  'cic-antwerpen': [
    ['Antwerpen', 51.219, 4.403], ['Mechelen', 51.028, 4.480], ['Turnhout', 51.323, 4.945],
    ['Mol', 51.191, 5.116], ['Geel', 51.162, 4.990], ['Herentals', 51.177, 4.836],
    ['Lier', 51.131, 4.570], ['Heist-op-den-Berg', 51.076, 4.726], ['Westerlo', 51.090, 4.917],
    ['Boom', 51.092, 4.367], ['Willebroek', 51.060, 4.360], ['Bornem', 51.097, 4.243],
    ['Puurs', 51.075, 4.288], ['Zwijndrecht', 51.215, 4.330], ['Kapellen', 51.313, 4.433],
    ['Brasschaat', 51.291, 4.492], ['Essen', 51.466, 4.468], ['Hoogstraten', 51.400, 4.760],
    ['Kalmthout', 51.385, 4.475], ['Zandvliet', 51.359, 4.306], ['Lillo', 51.305, 4.290],
    ['Arendonk', 51.322, 5.084], ['Balen', 51.168, 5.170], ['Meerhout', 51.132, 5.078],
    ['Laakdal', 51.080, 4.980], ['Bonheiden', 51.025, 4.540], ['Duffel', 51.090, 4.500],
    ['Nijlen', 51.160, 4.670], ['Ravels', 51.372, 4.992], ['Wuustwezel', 51.390, 4.595],
    ['Westmalle', 51.300, 4.690], ['Retie', 51.267, 5.082], ['Dessel', 51.238, 5.115],
    ['Sint-Katelijne-Waver', 51.070, 4.530],
  ],
  'cic-limburg': [
    ['Hasselt', 50.931, 5.338], ['Genk', 50.965, 5.500], ['Tongeren', 50.781, 5.465],
    ['Sint-Truiden', 50.816, 5.186], ['Lommel', 51.230, 5.313], ['Maaseik', 51.094, 5.785],
    ['Beringen', 51.049, 5.226], ['Leopoldsburg', 51.117, 5.258], ['Neerpelt', 51.229, 5.422],
    ['Hamont', 51.251, 5.547], ['Bree', 51.141, 5.597], ['Bilzen', 50.872, 5.518],
    ['Maasmechelen', 50.965, 5.694], ['Lanaken', 50.892, 5.647], ['Riemst', 50.809, 5.601],
    ['Tessenderlo', 51.067, 5.088], ['Herk-de-Stad', 50.940, 5.167], ['Halen', 50.948, 5.110],
    ['Borgloon', 50.802, 5.343], ['Heers', 50.755, 5.300], ['Gingelom', 50.748, 5.133],
    ["'s-Gravenvoeren", 50.760, 5.763], ['Sint-Martens-Voeren', 50.745, 5.813], ['Peer', 51.130, 5.460],
    ['Houthalen', 51.030, 5.370], ['Dilsen-Stokkem', 51.030, 5.730], ['Kinrooi', 51.145, 5.745],
  ],
  'cic-vlaams-brabant': [
    ['Leuven', 50.880, 4.700], ['Vilvoorde', 50.928, 4.429], ['Halle', 50.734, 4.235],
    ['Aarschot', 50.985, 4.836], ['Tienen', 50.807, 4.938], ['Diest', 50.989, 5.051],
    ['Zaventem', 50.883, 4.474], ['Asse', 50.910, 4.198], ['Dilbeek', 50.848, 4.259],
    ['Grimbergen', 50.935, 4.372], ['Londerzeel', 51.005, 4.301], ['Kampenhout', 50.943, 4.551],
    ['Tervuren', 50.823, 4.515], ['Overijse', 50.774, 4.536], ['Sint-Genesius-Rode', 50.750, 4.357],
    ['Landen', 50.753, 5.081], ['Zoutleeuw', 50.833, 5.104], ['Galmaarden', 50.745, 3.970],
    ['Pepingen', 50.758, 4.160], ['Lennik', 50.807, 4.161], ['Liedekerke', 50.870, 4.090],
    ['Opwijk', 50.970, 4.190], ['Keerbergen', 51.003, 4.633], ['Haacht', 50.977, 4.638],
    ['Bekkevoort', 50.943, 4.967], ['Hoegaarden', 50.776, 4.887], ['Bierbeek', 50.828, 4.759],
    ['Huldenberg', 50.790, 4.583], ['Beersel', 50.766, 4.300], ['Herne', 50.723, 4.016],
    ['Kortenaken', 50.908, 5.059], ['Hoeilaart', 50.767, 4.470],
    // Under the Brussels polygon: keeps the Voronoi cells of other provinces out of the region.
    ['Brussels (enclave, see BRUSSELS)', 50.846, 4.352],
  ],
  'cic-brabant-wallon': [
    ['Wavre', 50.717, 4.601], ['Nivelles', 50.598, 4.328], ['Ottignies-Louvain-la-Neuve', 50.668, 4.612],
    ['Waterloo', 50.715, 4.399], ["Braine-l'Alleud", 50.683, 4.367], ['Tubize', 50.692, 4.205],
    ['Jodoigne', 50.724, 4.871], ['Perwez', 50.624, 4.813], ['Genappe', 50.611, 4.451],
    ['Rixensart', 50.712, 4.531], ['Grez-Doiceau', 50.739, 4.698], ['Rebecq', 50.664, 4.132],
    ['Ittre', 50.643, 4.264], ['Villers-la-Ville', 50.586, 4.529], ['Chastre', 50.608, 4.641],
    ['Ramillies', 50.638, 4.908], ['Beauvechain', 50.781, 4.772], ['Orp-Jauche', 50.680, 4.950],
    ['Lasne', 50.686, 4.483], ['La Hulpe', 50.731, 4.486],
  ],
  'cic-hainaut': [
    ['Mons', 50.454, 3.952], ['Charleroi', 50.411, 4.444], ['Tournai', 50.606, 3.389],
    ['Mouscron', 50.744, 3.214], ['La Louvière', 50.480, 4.187], ['Ath', 50.630, 3.779],
    ['Soignies', 50.579, 4.071], ['Binche', 50.411, 4.167], ['Thuin', 50.340, 4.286],
    ['Chimay', 50.048, 4.317], ['Enghien', 50.693, 4.039], ['Lessines', 50.712, 3.836],
    ['Péruwelz', 50.508, 3.592], ['Beaumont', 50.237, 4.238], ['Fleurus', 50.483, 4.551],
    ['Châtelet', 50.403, 4.525], ['Braine-le-Comte', 50.609, 4.143], ['Seneffe', 50.531, 4.262],
    ['Comines', 50.770, 3.000], ['Ploegsteert', 50.725, 2.880], ['Pecq', 50.686, 3.337],
    ['Celles', 50.712, 3.457], ['Momignies', 50.027, 4.165], ['Froidchapelle', 50.150, 4.330],
    ['Gerpinnes', 50.337, 4.525], ['Farciennes', 50.430, 4.550], ['Ham-sur-Heure', 50.320, 4.390],
    ['Leuze-en-Hainaut', 50.600, 3.620], ['Antoing', 50.567, 3.450], ['Bernissart', 50.475, 3.650],
    ['Saint-Ghislain', 50.450, 3.820], ['Courcelles', 50.463, 4.375], ['Frasnes-lez-Anvaing', 50.667, 3.605],
    ['Quiévrain', 50.405, 3.684],
  ],
  'cic-namur': [
    ['Namur', 50.467, 4.872], ['Dinant', 50.261, 4.912], ['Philippeville', 50.196, 4.543],
    ['Ciney', 50.294, 5.100], ['Gembloux', 50.561, 4.699], ['Andenne', 50.489, 5.094],
    ['Couvin', 50.052, 4.493], ['Rochefort', 50.163, 5.222], ['Beauraing', 50.110, 4.956],
    ['Sambreville', 50.440, 4.620], ['Eghezée', 50.591, 4.911], ['Florennes', 50.251, 4.606],
    ['Walcourt', 50.253, 4.434], ['Cerfontaine', 50.171, 4.410], ['Gedinne', 49.980, 4.940],
    ['Vresse-sur-Semois', 49.870, 4.930], ['Hastière', 50.220, 4.830], ['Doische', 50.135, 4.750],
    ['Viroinval', 50.075, 4.550], ['Havelange', 50.385, 5.240], ['Ohey', 50.436, 5.123],
    ['Fosses-la-Ville', 50.395, 4.695], ['Sombreffe', 50.530, 4.600], ['Jemeppe-sur-Sambre', 50.460, 4.660],
    ['Profondeville', 50.375, 4.870], ['Yvoir', 50.330, 4.880], ['Hamois', 50.340, 5.140],
    ['Somme-Leuze', 50.336, 5.370], ['Houyet', 50.190, 5.010], ['Bièvre', 49.940, 5.020],
  ],
  'cic-liege': [
    ['Liège', 50.633, 5.570], ['Verviers', 50.590, 5.864], ['Huy', 50.519, 5.240],
    ['Waremme', 50.697, 5.255], ['Eupen', 50.630, 6.031], ['Spa', 50.492, 5.863],
    ['Malmedy', 50.426, 6.028], ['Sankt Vith', 50.280, 6.127], ['Visé', 50.737, 5.698],
    ['Hannut', 50.671, 5.079], ['Stavelot', 50.394, 5.931], ['Vielsalm', 50.284, 5.915],
    ['Gouvy', 50.187, 5.953], ['Aywaille', 50.474, 5.676], ['Seraing', 50.600, 5.510],
    ['Herstal', 50.660, 5.630], ['Welkenraedt', 50.660, 5.970], ['Kelmis', 50.716, 6.011],
    ['Plombières', 50.736, 5.965], ['Raeren', 50.670, 6.115], ['Bütgenbach', 50.427, 6.204],
    ['Büllingen', 50.410, 6.255], ['Amel', 50.350, 6.170], ['Burg-Reuland', 50.195, 6.140],
    ['Lierneux', 50.287, 5.793], ['Hamoir', 50.428, 5.535], ['Ferrières', 50.400, 5.610],
    ['Clavier', 50.400, 5.350], ['Nandrin', 50.510, 5.420], ['Wanze', 50.540, 5.210],
    ['Braives', 50.633, 5.146], ['Oreye', 50.725, 5.352], ['Bassenge', 50.760, 5.610],
    ['Juprelle', 50.710, 5.530], ['Ouffet', 50.440, 5.465], ['Stoumont', 50.405, 5.810],
    ['Trois-Ponts', 50.370, 5.870], ['Theux', 50.535, 5.810], ['Waimes', 50.415, 6.110],
  ],
  'cic-luxembourg': [
    ['Arlon', 49.683, 5.817], ['Bastogne', 50.001, 5.715], ['Marche-en-Famenne', 50.227, 5.344],
    ['Virton', 49.568, 5.532], ['Neufchâteau', 49.841, 5.436], ['Libramont', 49.920, 5.380],
    ['Bouillon', 49.794, 5.067], ['La Roche-en-Ardenne', 50.183, 5.576], ['Houffalize', 50.132, 5.789],
    ['Durbuy', 50.352, 5.456], ['Hotton', 50.268, 5.446], ['Érezée', 50.290, 5.560],
    ['Manhay', 50.293, 5.677], ['Saint-Hubert', 50.027, 5.373], ['Florenville', 49.700, 5.310],
    ['Habay', 49.727, 5.648], ['Étalle', 49.675, 5.600], ['Aubange', 49.567, 5.805],
    ['Martelange', 49.832, 5.739], ['Vaux-sur-Sûre', 49.910, 5.580], ['Nassogne', 50.130, 5.340],
    ['Tellin', 50.080, 5.217], ['Wellin', 50.081, 5.115], ['Daverdisse', 50.020, 5.120],
    ['Paliseul', 49.900, 5.135], ['Bertrix', 49.855, 5.253], ['Herbeumont', 49.780, 5.235],
    ['Chiny', 49.740, 5.340], ['Léglise', 49.800, 5.540], ['Fauvillers', 49.850, 5.660],
    ['Attert', 49.750, 5.790], ['Meix-devant-Virton', 49.605, 5.480], ['Rouvroy', 49.540, 5.490],
    ['Musson', 49.560, 5.710], ['Rendeux', 50.230, 5.500], ['Bertogne', 50.080, 5.665],
  ],
};
