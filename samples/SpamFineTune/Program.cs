Console.WriteLine("Not written yet.");
